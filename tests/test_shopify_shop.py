"""A Shopify token is reported with the shop it belongs to, because Shopify's Admin API is per shop; a shop
alone is an identifier."""
from __future__ import annotations

import pytest

from scanner.engine import Engine
from scanner.model import Chunk, Finding, Kind, Severity

TOKEN = "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"
SHOP = "kettle-and-crumb.myshopify.com"


def _found(engine: Engine, text: str) -> dict[str, Finding]:
    return {f.rule_id: f for f in engine.scan(Chunk(data=text.encode(), path="shop.env")).findings}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"SHOPIFY_SHOP={SHOP}\nSHOPIFY_ACCESS_TOKEN={TOKEN}\n", id="env-file"),
        pytest.param(f"url = 'https://{SHOP}/admin/api/2024-10/shop.json'\n\n\ntoken = '{TOKEN}'\n", id="code-lines-apart"),
    ],
)
def test_token_carries_its_shop_domain(engine: Engine, text: str) -> None:
    found = _found(engine, text)
    assert found["shopify-access-token"].related == (("shopify-shop-domain", SHOP),)
    assert found["shopify-shop-domain"].related == (("shopify-access-token", TOKEN),)


def test_shop_domain_alone_is_an_identifier_not_a_secret(engine: Engine) -> None:
    shop = _found(engine, f"SHOPIFY_SHOP={SHOP}\n")["shopify-shop-domain"]
    assert (shop.kind, shop.severity, shop.related) == (Kind.IDENTIFIER, Severity.INFO, ())


def test_shop_domain_far_from_token_is_not_linked(engine: Engine) -> None:
    found = _found(engine, f"SHOPIFY_SHOP={SHOP}\n" + "\n" * 20 + f"SHOPIFY_ACCESS_TOKEN={TOKEN}\n")
    assert found["shopify-access-token"].related == ()
    assert found["shopify-shop-domain"].related == ()
