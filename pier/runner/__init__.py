"""The model process and its parent-side Worker.

`pier.runner.worker.Worker` runs one long-lived child (`pier.runner.child`) per model version:
setup() once, predict() many times, typed JSON-line messages both ways (`pier.runner.messages`).
"""
