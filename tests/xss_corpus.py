"""The XSS corpus shared by the widget's and the console's browser tests (issue 5 item 7, issue 9
item 4): classic payloads that, if any ran, would set ``window.xss``, open a dialog or log
``XSS-RAN``. Each must read back exactly as typed wherever Parley shows it.
"""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, Dialog, Page

XSS = [
    "<script>window.xss=1</script>",
    '<img src=x onerror="window.xss=1">',
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="console.log(\'XSS-RAN\')">',
    '<svg onload="window.xss=1">',
    "<svg><script>window.xss=1</script></svg>",
    '<svg><animate onbegin="window.xss=1" attributeName=x dur=1s>',
    '<a href="javascript:window.xss=1">click me</a>',
    "javascript:window.xss=1",
    "JaVaScRiPt:alert(document.domain)",
    '<iframe srcdoc="<script>parent.xss=1</script>"></iframe>',
    '<iframe src="javascript:parent.xss=1"></iframe>',
    '<a href="data:text/html,<script>parent.xss=1</script>">x</a>',
    '<body onload="window.xss=1">',
    '<details open ontoggle="window.xss=1">',
    '<input autofocus onfocus="window.xss=1">',
    '<video><source onerror="window.xss=1"></video>',
    '<marquee onstart="window.xss=1">hi</marquee>',
    '<div style="width:expression(window.xss=1)">x</div>',
    "<style>@import 'javascript:window.xss=1';</style>",
    '<object data="javascript:window.xss=1">',
    '<embed src="javascript:window.xss=1">',
    '<form action="javascript:window.xss=1"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:window.xss=1">',
    '<base href="javascript:window.xss=1//">',
    '"><script>window.xss=1</script>',
    "'><img src=x onerror=window.xss=1>",
    "</textarea><script>window.xss=1</script>",
    "</title><script>window.xss=1</script>",
    '<!--<img src="--><img src=x onerror=window.xss=1//">',
    '<noscript><p title="</noscript><img src=x onerror=window.xss=1>">',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.xss=1>",
    "{{7*7}}",
    "${7*7}",
    "{{constructor.constructor('window.xss=1')()}}",
    "&lt;script&gt;window.xss=1&lt;/script&gt;",
    "\\u003cscript\\u003ewindow.xss=1\\u003c/script\\u003e",
    "%3Cscript%3Ewindow.xss%3D1%3C%2Fscript%3E",
    "\uff1cscript\uff1ewindow.xss=1\uff1c/script\uff1e",
    "\u202e<img src=x onerror=window.xss=1>",
    "<scr\u200bipt>window.xss=1</scr\u200bipt>",
]
#: Hostile http(s) URLs: the widget and the console turn these into links (the console's
#: visitor panel links the current page), whose text and href must stay inert.
URL_XSS = [
    'https://shop.example/"><img src=x onerror=window.xss=1>',
    "https://shop.example/?q=<script>window.xss=1</script>#<svg onload=window.xss=1>",
]
#: A site title is at most 60 characters.
TITLES = [p for p in XSS if len(p) <= 60]


def email_of(payload: str) -> str | None:
    """The payload as the quoted local part of an e-mail address the API accepts, or ``None``
    (a quoted local part takes printable ASCII only; quotes, backslashes and spaces are
    escaped)."""
    if not payload.isascii() or not payload.isprintable():
        return None
    quoted = "".join("\\" + c if c in '\\" ' else c for c in payload)
    return f'"{quoted}"@xss.example'


class PayloadWatch:
    """Dialogs and ``XSS`` console lines (on every frame of a page): a payload that ran."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.console: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        if "XSS" in message.text:
            self.console.append(message.text)
