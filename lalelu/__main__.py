import sys

from lalelu.cli import main

sys.exit(main())
