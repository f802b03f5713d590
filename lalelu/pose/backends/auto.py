"""`--backend auto`: the fastest installed backend and precision that passes the accuracy bars on this machine,
measured on the first run and cached (see lalelu/pose/auto.py); this backend then runs it."""

from __future__ import annotations


class Backend:
    def __init__(self, model, threads: int = 1):
        from lalelu.pose.auto import choose, make_backend
        from lalelu.pose.backends.openvino import device_from_env
        from lalelu.pose.openvino_build import say_stderr

        device = device_from_env()
        chosen = choose(model, threads, say=say_stderr, device=device)
        self.inner = make_backend(chosen, model, threads, device)
        self.kind = self.inner.kind
        self.chosen = chosen
        self.name = f"{chosen.label} (auto)"
        self.run = self.inner.run   # no extra call per frame
