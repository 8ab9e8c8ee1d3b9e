"""Launching an avviso: scaffold a draft, diff editions, synthetic populations, simulation,
what-if over past decisions, the HTML report, and the policy test cases beside each edition."""
