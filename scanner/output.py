"""Where a command's output goes: a file written atomically, or stdout.

Never a silent ``mkdir``: a report aimed at an unmounted ``/media/usb`` must fail, not land on the
secret machine's own disk under an empty mount point's name. The folder is checked before any
work is done (``check``) and again when writing.
"""

from __future__ import annotations

import os
import sys
from typing import Optional, Union

from .errors import ScanError
from .i18n import t


def check(path: Optional[str], lang: str) -> None:
    """Refuse an output file whose folder does not exist (ScanError), before any work is done."""
    if not path:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ScanError(t("output.no_folder", lang, folder=folder, path=path))


def write(path: Optional[str], data: Union[str, bytes], lang: str = "vi", mode: int = 0o640) -> None:
    """``data`` (text or bytes) to ``path`` atomically, or to stdout when no path was given."""
    if not path:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            import click
            click.echo(data, nl=False)
        return
    from .atomic import write_atomic
    check(path, lang)
    try:
        write_atomic(path, data if isinstance(data, bytes) else data.encode("utf-8"), mode)
    except FileNotFoundError:
        raise ScanError(t("output.no_folder", lang, folder=os.path.dirname(os.path.abspath(path)), path=path)) from None
    except OSError as exc:
        raise ScanError(t("output.cannot_write", lang, path=path, reason=exc.strerror)) from None
