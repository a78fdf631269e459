"""Per-version Python environments: cog.yaml's `build` → a uv lock → a cached virtualenv.

`plan()` reads and checks a build section (spec.py), `resolve()` turns it into a lock with
`uv pip compile`, `acquire()` builds that lock's environment once per machine, or reuses it
(build.py), and the cache keeps itself under a size budget (cache.py). Pier's runner reaches
a model's environment through a directory that holds only its own standard-library packages
(runnerdir.py), never through Pier's site-packages.
"""

from pier.envs.build import (
    Env,
    EnvConfig,
    acquire,
    for_version,
    host_env,
    prepare,
    resolve,
)
from pier.envs.spec import BuildRequest, EnvError, EnvSpec, plan

__all__ = [
    "BuildRequest",
    "Env",
    "EnvConfig",
    "EnvError",
    "EnvSpec",
    "acquire",
    "for_version",
    "host_env",
    "plan",
    "prepare",
    "resolve",
]
