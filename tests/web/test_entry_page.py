"""The entry page beside the entry: related memories and the tags the analysis suggests
(accepted with one click, on purpose only), from the services the API uses."""

from __future__ import annotations

import re

import httpx

from diarist.db.engine import Database
from tests.factories.journal import analyze_entries
from tests.web.pages import browser_user_id, hidden_fields, signed_up_in_browser, written

GARDEN = (
    "Spent the morning in the garden planting tomatoes and weeding the vegetable beds.",
    "Watered the garden, the tomatoes and beans are growing well in the vegetable patch.",
)


async def test_related_memories_and_a_suggested_tag(
    client: httpx.AsyncClient, database: Database
) -> None:
    await signed_up_in_browser(client)
    first = await written(client, title="Planting", text=GARDEN[0], tags="garden")
    second = await written(client, title="Watering", text=GARDEN[1])
    await written(client, title="Taxes", text="Tax forms and a dentist appointment.")
    before = await client.get(second)
    assert "Found once the entry is analysed." in before.text
    await analyze_entries(database, await browser_user_id(client))
    page = await client.get(second)
    related = page.text[page.text.index('id="related-h"') :]
    assert f'href="{first}"' in related
    assert "Taxes" not in related.split("</section>")[0]
    accept = re.search(r'action="(/entries/[^"]+/suggestions/[^"]+/accept)"', page.text)
    assert accept, "garden is suggested"
    assert 'class="tag">garden<' in page.text[page.text.index('id="suggest-h"') :]
    forged = await client.post(accept.group(1), data={"csrf": "x"})
    assert forged.status_code == 403
    added = await client.post(accept.group(1), data=hidden_fields(page.text))
    assert added.status_code == 303
    after = (await client.get(second)).text
    assert 'id="suggest-h"' not in after, "nothing left to suggest"
    assert 'class="tag">garden<' in after
    again = await client.post(accept.group(1), data=hidden_fields(page.text))
    assert again.status_code == 404
