"""Permission specs for the model page (/model/): roles holding model.use."""

try:
    from permission import Spec
except ImportError:  # tests/ imported as a package rather than put on sys.path
    from tests.permission import Spec

MODEL_ROLES = frozenset({"manager", "analyst", "admin"})


def _at(route: str):
    def build(program, record_contact):
        from django.urls import reverse

        from salus.core.models import PopulationSizeEstimate

        PopulationSizeEstimate.objects.get_or_create(
            area=program.area_a, population="pwid", year=2025, defaults={"estimate": 1000}
        )
        return f"{reverse(route)}?area=XL/NORTH/N1&year=2025&ost=30", None

    return build


SPECS = [
    Spec(route="model-home", allowed=MODEL_ROLES, build=_at("model-home"), site_scoped=False),
    Spec(route="model-report", allowed=MODEL_ROLES, build=_at("model-report"), site_scoped=False),
]
