"""The HTML pages the emulator serves, shaped like those of Django, nginx and Cloudflare."""

from __future__ import annotations

from html import escape

_DJANGO_STYLE = (
    "html * { padding:0; margin:0; } body * { padding:10px 20px; } "
    "body * * { padding:0; } body { font:small sans-serif; background:#eee; color:#000; } "
    "body>div { border-bottom:1px solid #ddd; } h1 { font-weight:normal; margin-bottom:.4em; } "
    "h1 span { font-size:60%; color:#666; font-weight:normal; } #info { background:#f6f6f6; } "
    "#summary { background: #ffc; }"
)


def index_page(masked_token: str) -> str:
    """The chat page served at ``GET /`` (with Django's hidden CSRF form field)."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>VoiGPT (local emulator)</title>
</head>
<body>
  <h1>VoiGPT</h1>
  <p>This is the voigpt emulator, a local stand-in for voigpt.com.</p>
  <form id="chat-form" method="post" action="/generate_response/">
    <input type="hidden" name="csrfmiddlewaretoken" value="{escape(masked_token)}">
    <textarea id="prompt" name="prompt"></textarea>
    <button type="submit">Send</button>
  </form>
</body>
</html>
"""


def csrf_failure_page(reason: str) -> str:
    """Django's CSRF failure page (``django.views.csrf.csrf_failure``), with the reason."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta http-equiv="content-type" content="text/html; charset=utf-8">
  <meta name="robots" content="NONE,NOARCHIVE">
  <title>403 Forbidden</title>
  <style>{_DJANGO_STYLE}</style>
</head>
<body>
<div id="summary">
  <h1>Forbidden <span>(403)</span></h1>
  <p>CSRF verification failed. Request aborted.</p>
</div>
<div id="info">
  <h2>Help</h2>
  <p>Reason given for failure:</p>
  <pre>
    {escape(reason)}
  </pre>
</div>
</body>
</html>
"""


def not_found_page(path: str) -> str:
    """Django's production 404 page."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n'
        "<body>\n  <h1>Not Found</h1><p>The requested resource "
        f"{escape(path)} was not found on this server.</p>\n</body>\n</html>\n"
    )


def server_error_page(status: int) -> str:
    """Django's 500 page, or nginx's page for a 502/503 from the upstream."""
    if status == 500:
        return (
            '<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n'
            "</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n"
        )
    title = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable"}[status]
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


def maintenance_page() -> str:
    """A generic HTML page served where JSON was expected."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">\n'
        "  <title>VoiGPT</title>\n</head>\n<body>\n  <h1>We'll be right back</h1>\n"
        "  <p>VoiGPT is down for maintenance (voigpt emulator).</p>\n</body>\n</html>\n"
    )


def error_page(status: int, message: str) -> str:
    """A minimal page for HTTP-level errors (bad request line, body too large, ...)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n'
        f"  <title>Error {status}</title>\n</head>\n<body>\n"
        f"  <h1>Error {status}</h1>\n  <p>{escape(message)}</p>\n</body>\n</html>\n"
    )


def challenge_page(host: str) -> str:
    """Cloudflare's "Just a moment..." browser challenge interstitial."""
    host = escape(host)
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
  <title>Just a moment...</title>
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
  <meta http-equiv="X-UA-Compatible" content="IE=Edge">
  <meta name="robots" content="noindex,nofollow">
  <meta name="viewport" content="width=device-width,initial-scale=1">
</head>
<body class="no-js">
  <div class="main-wrapper" role="main">
    <div class="main-content">
      <h1 class="zone-name-title h1">{host}</h1>
      <h2 class="h2" id="challenge-running">
        Checking your browser before accessing {host}.
      </h2>
      <div id="cf-challenge-running" class="cf-challenge">
        This process is automatic. Your browser will redirect to your requested content shortly.
      </div>
      <noscript>
        <div id="challenge-error-title">Enable JavaScript and cookies to continue</div>
      </noscript>
    </div>
  </div>
  <script>(function(){{window._cf_chl_opt={{cvId: '3', cType: 'managed'}};
  var a=document.createElement('script');
  a.src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1';
  document.getElementsByTagName('head')[0].appendChild(a);}}());</script>
</body>
</html>
"""
