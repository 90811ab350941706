"""The old g4f ``VoiGpt`` provider's exact way of talking to voigpt.com, against the emulator:
as the seed describes it (Origin: the URL it posts to), and as g4f 0.1.9.3 ships it (Origin
and Referer hard-coded to https://voigpt.com, whatever ``VoiGpt.url`` says)."""

from __future__ import annotations

import pytest
import requests

from voigpt.emulator import Emulator, reply_for


@pytest.mark.parametrize("origin", ["its own URL", "https://voigpt.com"])
def test_the_g4f_provider_flow_is_served(voigpt_emulator: Emulator, origin: str) -> None:
    url = voigpt_emulator.url
    site = url if origin == "its own URL" else origin
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Say hi"},
    ]

    response = requests.get(url)
    csrf_token = response.cookies["csrftoken"]
    headers = {
        "authority": url.split("//")[1],
        "accept": "*/*",
        "accept-language": "de-DE,de;q=0.9,en-DE;q=0.8,en;q=0.7,en-US;q=0.6",
        "content-type": "application/json",
        "Cookie": f"csrftoken={csrf_token}",
        "origin": site,
        "referer": site + "/",
        "sec-ch-ua": '"Google Chrome";v="119", "Chromium";v="119", "Not?A_Brand";v="24"',
        "sec-ch-ua-mobile": "?0",
        "sec-ch-ua-platform": '"Windows"',
        "sec-fetch-dest": "empty",
        "sec-fetch-mode": "cors",
        "sec-fetch-site": "same-origin",
        "user-agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
        "X-CSRFToken": csrf_token,
    }
    response = requests.post(
        url + "/generate_response/", headers=headers, json={"messages": messages}
    )
    response.raise_for_status()
    content = response.json()["response"]

    assert content == reply_for(messages) == "[voigpt emulator] You said: Say hi"
    post = voigpt_emulator.requests[-1]
    assert post.method == "POST"
    assert post.path == "/generate_response/"
    assert post.headers["origin"] == site
    assert post.headers["referer"] == site + "/"
    assert post.headers["x-csrftoken"] == csrf_token
    assert post.json() == {"messages": messages}
    assert voigpt_emulator.rejections == []
