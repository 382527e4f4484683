"""Through a real server on loopback: concurrent requests from many threads get exactly the
answers that sequential requests get."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.conftest import BASE_CASE

SITES = ["colorectal", "breast", "lung", "ovary", "pancreas", "prostate", "unknown", "kidney"]


def _cases() -> list[dict[str, Any]]:
    cases = []
    for i in range(240):
        cases.append(
            {
                **BASE_CASE,
                "primary_site": SITES[i % len(SITES)],
                "lesion_count": 1 + i % 7,
                "largest_lesion_cm": 0.5 + (i % 11) * 0.6,
                "extrahepatic_disease": ["none", "limited", "extensive"][i % 3],
                "liver_function": ["normal", "impaired", "cirrhosis"][(i // 3) % 3],
                "performance_status": i % 5,
                "symptomatic": [True, False, None][(i // 5) % 3],
            }
        )
    return cases


def test_concurrent_requests_through_a_real_server_equal_sequential_answers(live_server: str) -> None:
    cases = _cases()
    with httpx.Client(base_url=live_server, timeout=30) as client:
        sequential = [client.post("/v1/explain", json=c).content for c in cases]

    def ask(case: dict[str, Any]) -> bytes:
        with httpx.Client(base_url=live_server, timeout=30) as client:
            response = client.post("/v1/explain", json=case)
            assert response.status_code == 200
            return response.content

    with ThreadPoolExecutor(max_workers=16) as pool:
        concurrent = list(pool.map(ask, cases))
    assert concurrent == sequential
    assert len(set(sequential)) > 100, "the cases must be distinct to prove anything"
