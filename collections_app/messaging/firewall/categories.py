"""The seven things a message may be found to say, as named in `manage.py lint_message` output.

A leaf module: the detectors tag their hits with these names and the entry point reports them.
"""

AMOUNT = "amount"
OVERDUE_DETAIL = "overdue_detail"
IDENTIFIER = "identifier"
PRODUCT = "product"
DEBT_DISCLOSURE = "debt_disclosure"
THREAT = "threat"
THIRD_PARTY = "third_party"
CATEGORIES: tuple[str, ...] = (AMOUNT, OVERDUE_DETAIL, IDENTIFIER, PRODUCT, DEBT_DISCLOSURE, THREAT, THIRD_PARTY)
