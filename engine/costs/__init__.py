"""Money: costing a plan of services against the dote (``cost_plan``) and pricing a claim for
delivered services and outcomes (``price_claim``), every euro with its rule and reference."""
from .claims import price_claim
from .plans import cost_plan

__all__ = ["cost_plan", "price_claim"]
