"""A fixed mix of realistic cases, the same in every run, and a deterministic 1,000-case batch."""

from typing import Any

MIX: list[dict[str, Any]] = [
    # colorectal, few small lesions, liver only: the classic resection discussion
    {"primary_site": "colorectal", "lesion_count": 2, "largest_lesion_cm": 2.5, "extrahepatic_disease": "none",
     "liver_function": "normal", "performance_status": 0, "symptomatic": False, "kras_status": "wild_type"},
    {"primary_site": "colorectal", "lesion_count": 1, "largest_lesion_cm": 1.2, "extrahepatic_disease": "none",
     "liver_function": "normal", "performance_status": 1, "lobar_distribution": "unilobar",
     "primary_tumour_status": "resected", "prior_treatments": ["chemotherapy"], "kras_status": "mutant"},
    {"primary_site": "colorectal", "lesion_count": 6, "largest_lesion_cm": 4.0, "extrahepatic_disease": "extensive",
     "liver_function": "normal", "performance_status": 1, "symptomatic": True},
    {"primary_site": "colorectal", "lesion_count": 12, "largest_lesion_cm": 6.5, "extrahepatic_disease": "limited",
     "liver_function": "impaired", "performance_status": 2, "lobar_distribution": "bilobar",
     "primary_tumour_status": "in_place", "prior_treatments": ["chemotherapy", "liver_resection"]},
    {"primary_site": "breast", "lesion_count": 2, "largest_lesion_cm": 1.8, "extrahepatic_disease": "limited",
     "liver_function": "impaired", "performance_status": 3},
    {"primary_site": "breast", "lesion_count": 3, "largest_lesion_cm": 2.2, "extrahepatic_disease": "none",
     "liver_function": "normal", "performance_status": 0, "hormone_receptor_status": "positive",
     "symptomatic": False},
    {"primary_site": "lung", "lesion_count": 4, "largest_lesion_cm": 3.1, "extrahepatic_disease": "extensive",
     "liver_function": "normal", "performance_status": 2, "symptomatic": True},
    {"primary_site": "pancreas", "lesion_count": 5, "largest_lesion_cm": 2.0, "extrahepatic_disease": "limited",
     "liver_function": "normal", "performance_status": 1, "primary_tumour_status": "in_place"},
    {"primary_site": "neuroendocrine", "lesion_count": 8, "largest_lesion_cm": 5.0, "extrahepatic_disease": "none",
     "liver_function": "normal", "performance_status": 0, "lobar_distribution": "bilobar", "symptomatic": True},
    {"primary_site": "ovary", "lesion_count": 1, "largest_lesion_cm": 3.5, "extrahepatic_disease": "none",
     "liver_function": "normal", "performance_status": 1, "declines_surgery": True},
    {"primary_site": "uveal_melanoma", "lesion_count": 3, "largest_lesion_cm": 1.5, "extrahepatic_disease": "none",
     "liver_function": "normal", "performance_status": 0, "prior_treatments": []},
    {"primary_site": "prostate", "lesion_count": 2, "largest_lesion_cm": 2.8, "extrahepatic_disease": "extensive",
     "liver_function": "normal", "performance_status": 2, "hormone_receptor_status": "positive"},
    {"primary_site": "kidney", "lesion_count": 1, "largest_lesion_cm": 4.2, "extrahepatic_disease": "none",
     "liver_function": "normal", "performance_status": 1, "primary_tumour_status": "resected"},
    {"primary_site": "stomach", "lesion_count": 2, "largest_lesion_cm": 2.4, "extrahepatic_disease": "limited",
     "liver_function": "cirrhosis", "performance_status": 2},
    {"primary_site": "unknown", "lesion_count": 15, "largest_lesion_cm": 7.0, "extrahepatic_disease": "extensive",
     "liver_function": "impaired", "performance_status": 4, "symptomatic": True},
    {"primary_site": "colorectal", "lesion_count": 3, "largest_lesion_cm": 2.9, "extrahepatic_disease": "none",
     "liver_function": "cirrhosis", "performance_status": 3, "prior_treatments": ["ablation", "embolisation"],
     "declines_surgery": False},
]  # fmt: skip


def batch_cases(n: int = 1000) -> list[dict[str, Any]]:
    """`n` distinct cases: the mix, with the size and count varied so no two are the same."""
    return [
        {
            **MIX[i % len(MIX)],
            "largest_lesion_cm": round(0.5 + (i * 0.37) % 12, 2),
            "lesion_count": 1 + (i // len(MIX)) % 20,
        }
        for i in range(n)
    ]
