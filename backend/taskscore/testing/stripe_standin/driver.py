"""A scripted browser for the stand-in's pages (tests and benchmarks): it loads a page, finds the
form a person would use (by its action and hidden fields), fills in the visible fields and posts
it as a browser does (form-encoded, redirects not followed, so the caller sees them)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass(frozen=True)
class Page:
    url: str
    status: int
    text: str
    location: str = ""  # where a redirect points
    outcome: str = ""  # a form shown again: invalid, declined or refused (X-Standin-Outcome)


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # name → value as served
    hidden: dict[str, str] = field(default_factory=dict)
    button: str = ""


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._current = Form(
                action=attributes.get("action", ""),
                method=attributes.get("method", "get").lower(),
            )
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and "name" in attributes:
            name, value = attributes["name"], attributes.get("value", "")
            if attributes.get("type") == "hidden":
                self._current.hidden[name] = value
            else:
                self._current.fields[name] = value
        elif tag == "button" and self._current is not None:
            self._in_button = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._in_button and self._current is not None:
            self._current.button += data


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class StandinBrowser:
    def __init__(self, *, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect)

    def get(self, url: str) -> Page:
        return self._open(urllib.request.Request(url))  # noqa: S310 - loopback pages

    def post(self, url: str, fields: dict[str, str]) -> Page:
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback pages
            url, data=data, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        return self._open(request)

    def submit(
        self,
        page: Page,
        *,
        action_endswith: str,
        values: dict[str, str] | None = None,
        hidden: dict[str, str] | None = None,
    ) -> Page:
        """Post the page's form whose action ends with `action_endswith` (and whose hidden
        fields include `hidden`), its visible fields set from `values`; a field the form lacks
        is an error, as it would be for a person."""
        candidates = [
            form
            for form in forms_of(page.text)
            if form.method == "post"
            and form.action.endswith(action_endswith)
            and all(form.hidden.get(k) == v for k, v in (hidden or {}).items())
        ]
        if not candidates:
            raise LookupError(f"no form posting to …{action_endswith} on {page.url}")
        form = candidates[0]
        missing = set(values or {}) - set(form.fields)
        if missing:
            raise LookupError(f"the form has no field {sorted(missing)} on {page.url}")
        fields = {**form.fields, **form.hidden, **(values or {})}
        return self.post(urllib.parse.urljoin(page.url, form.action), fields)

    def checkout(
        self,
        session_url: str,
        *,
        card: str = "4242 4242 4242 4242",
        expiry: str = "12 / 34",
        cvc: str = "123",
        name: str = "Ada Lovelace",
        email: str | None = None,
    ) -> Page:
        """Fill in and submit the Checkout page's card form."""
        page = self.get(session_url)
        if page.status != 200:
            return page
        values = {"card_number": card, "card_expiry": expiry, "card_cvc": cvc, "card_name": name}
        if email is not None:
            values["email"] = email
        return self.submit(page, action_endswith=urllib.parse.urlsplit(session_url).path,
                           values=values)  # fmt: skip

    def portal(self, portal_url: str, action: str, **hidden: str) -> Page:
        """Press one of the portal's buttons (`switch` with `price=...`, `cancel`, `resume`,
        `renew`, `fail`, `pay` with `with_="card_on_file"`)."""
        page = self.get(portal_url)
        hidden = {k.rstrip("_"): v for k, v in hidden.items()}
        return self.submit(page, action_endswith=f"/{action}", hidden=hidden)

    def _open(self, request: urllib.request.Request) -> Page:
        url = request.full_url
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                outcome = response.headers.get("X-Standin-Outcome") or ""
                return Page(url, int(response.status), response.read().decode(), outcome=outcome)
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")
            return Page(url, int(exc.code), body, location=exc.headers.get("Location") or "")
