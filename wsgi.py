"""Entry point: patch for the chosen async mode first, then build the app.

``python wsgi.py`` serves with the production server of ``ASYNC_MODE`` (eventlet by
default); ``gunicorn -k gevent -w 1 wsgi:app`` with ``ASYNC_MODE=gevent`` also works.
``flask --app wsgi ...`` (migrations, the CLI) imports this module without serving: then
nothing is patched (patching after Flask is imported breaks locks) and the app runs in
threading mode, which is all a command needs.
"""

import os
import sys
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

_MODE = (os.environ.get("ASYNC_MODE") or "eventlet").lower()
_SERVING = __name__ == "__main__"
_PATCHED = False

if _MODE == "eventlet" and _SERVING:
    import eventlet

    eventlet.monkey_patch()
    _PATCHED = True
elif _MODE == "gevent" and (_SERVING or "gevent.monkey" in sys.modules):
    from gevent import monkey

    if _SERVING:
        monkey.patch_all()
    _PATCHED = monkey.is_module_patched("socket")
    if _PATCHED:
        from app.lib.green import patch_psycopg_for_gevent

        patch_psycopg_for_gevent()

from app import create_app  # noqa: E402
from app.server import serve  # noqa: E402

app = create_app(None if _PATCHED or _MODE == "threading" else {"ASYNC_MODE": "threading"})


def main() -> None:
    serve(
        app,
        os.environ.get("HOST", "127.0.0.1"),
        int(os.environ.get("PORT", "5000")),
        access_log=os.environ.get("ACCESS_LOG") == "1",
    )


if __name__ == "__main__":
    main()
