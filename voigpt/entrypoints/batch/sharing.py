"""The site's pace a batch run shares with other processes (``--state``): the state at a
location, opened through the client's container for the run and closed after it.

Kept out of the runner because it is the run's surroundings, not the run: the command and
``voigpt.batch`` open it (and report a state that cannot be used, before anything is sent),
then hand the pace to ``execute``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from voigpt.async_client import AsyncClient
from voigpt.domain.errors import InvalidConfig
from voigpt.domain.state_location import StateLocation
from voigpt.ports.shared_state import SitePace


@contextlib.asynccontextmanager
async def shared_pace(client: AsyncClient, location: StateLocation | None,
                      where: str = "state") -> AsyncIterator[SitePace | None]:
    """The site's pace on the state at ``location`` (built by ``client``'s container), open
    for the block; None for ``memory`` (or None): a run alone needs none, its ``Pacer``
    does it all. ``InvalidConfig`` naming ``where`` (the setting) and the location (never
    its password) if the state cannot be used; a Redis out of reach is no error (the pace
    is the process's own until it comes back, with one warning).

    The run's own ``--rate`` stays the ``Pacer``'s: given to the shared pace, it would
    space the starts of every process on the state (a server's too) by this run's rate."""
    if location is None or location.kind == "memory":
        yield None
        return
    state = client.container.shared_state(location)
    try:
        try:
            await state.open()
        except InvalidConfig as exc:
            reason = str(exc)
            if reason.startswith("state "):  # the adapters' "state SHOWN: problem"
                reason = reason[len("state "):]
            raise InvalidConfig(f"{where} {reason}") from None
        yield state.pace(rate=None, concurrency=None)
    finally:
        await state.aclose()
