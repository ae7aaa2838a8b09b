"""Version discovery (spec §1.2, §14): unauthenticated, links built from the request URL."""

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from pier.api.http import JSONResponse

# (minor version, date) for v2.0 ... v2.30; the last one is CURRENT.
VERSION_DATES = (
    "2016-12-11",
    "2018-04-20",
    "2018-07-31",
    "2018-12-18",
    "2018-12-19",
    "2019-01-21",
    "2019-01-25",
    "2018-01-25",
    "2019-02-12",
    "2019-03-04",
    "2019-03-05",
    "2019-06-24",
    "2019-09-11",
    "2019-09-13",
    "2019-11-10",
    "2020-03-10",
    "2020-03-15",
    "2020-04-29",
    "2020-04-29",
    "2020-05-12",
    "2020-08-02",
    "2020-09-03",
    "2020-09-04",
    "2020-09-07",
    "2020-10-15",
    "2021-10-02",
    "2022-08-29",
    "2023-05-05",
    "2023-11-08",
    "2024-10-15",
    "2025-02-26",
)


def versions_document(base_url: str) -> dict[str, Any]:
    link = [{"href": f"{base_url.rstrip('/')}/v2", "rel": "self"}]
    last = len(VERSION_DATES) - 1
    return {
        "versions": [
            {
                "id": f"v2.{minor}",
                "status": "CURRENT" if minor == last else "SUPPORTED",
                "updated": f"{date}T00:00:00Z",
                "links": link,
            }
            for minor, date in enumerate(VERSION_DATES)
        ]
    }


async def root(request: Request) -> Response:
    return JSONResponse(versions_document(str(request.base_url)))


async def bare_v2(request: Request) -> Response:
    """Octavia answers these with the raw text `v2` under a JSON content type (spec §1.1)."""
    return PlainTextResponse("v2", media_type="application/json")


def routes() -> list[Route]:
    return [Route("/", root, methods=["GET"])]


def bare_routes() -> list[Route]:
    return [
        Route(path, bare_v2, methods=["GET"])
        for path in ("/v2", "/v2.0", "/v2/lbaas", "/v2.0/lbaas", "/v2/octavia", "/v2.0/octavia")
    ]
