"""Missing schools and objects get the product's own "Page not found", even with DEBUG on (as in the demo)."""

from __future__ import annotations

import re

from django.http import Http404
from django.template.response import TemplateResponse

# get_object_or_404's default message names a model ("No School matches the given query."): not for people.
_DEFAULT_MESSAGE = re.compile(r"^No \w+ matches the given query\.$")


class FriendlyNotFoundMiddleware:
    """Render 404.html for any Http404 a view raises, instead of Django's technical page in DEBUG."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, Http404):
            return None
        message = str(exception.args[0]) if exception.args and isinstance(exception.args[0], str) else ""
        if _DEFAULT_MESSAGE.match(message):
            message = ""
        response = TemplateResponse(request, "404.html", {"exception": message}, status=404)
        return response.render()
