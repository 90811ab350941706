"""What g4f's ``ChatCompletion.create`` does with a ``provider=`` class (0.1.9 era), reduced
to the duck-typed attribute and method use. g4f itself is not a dependency."""

from __future__ import annotations

from typing import Any


class ProviderNotWorkingError(Exception):
    pass


class StreamNotSupportedError(Exception):
    pass


class AuthenticationRequiredError(Exception):
    pass


class ChatCompletion:
    @staticmethod
    def create(
        model: str,
        messages: list[dict[str, str]],
        provider: Any = None,
        stream: bool = False,
        auth: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if not provider.working:
            raise ProviderNotWorkingError(f"{provider.__name__} is not working")
        if stream and not provider.supports_stream:
            raise StreamNotSupportedError(f"{provider.__name__} does not support stream")
        if provider.needs_auth and not auth:
            raise AuthenticationRequiredError(f"{provider.__name__} requires authentication")
        if auth:
            kwargs["auth"] = auth
        result = provider.create_completion(model, messages, stream, **kwargs)
        return result if stream else "".join(result)

    @staticmethod
    async def create_async(
        model: str, messages: list[dict[str, str]], provider: Any = None, **kwargs: Any
    ) -> str:
        result: str = await provider.create_async(model, messages, **kwargs)
        return result
