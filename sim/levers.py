"""The policy levers the documents name (BRIEF.md lever table; sentences in calibration/lever_sources.csv).

Their mechanisms arrive with the levers issue; until then every lever is inactive and its fiscal
cost is zero. The names fix the `lever` dimension of `fiscal_cost` in every result.
"""

LEVER_NAMES = (
    "digital_subsidy",
    "rd_superdeduction",
    "equipment_renewal",
    "carbon_constraint",
    "gradient_cultivation",
    "arrears_enforcement",
    "hand_in_hand",
    "ai_empowerment",
    "soe_reform",
    "innovation_centers",
    "trade_shock",
    "relocation",
    "regional_transfer",
)
