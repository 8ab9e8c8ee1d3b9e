"""The codice fiscale of a person: checked with python-stdnum, birth date and gender read from it.

The code is personal data. It is used only to fill in (or check) ``birth_date`` and ``gender``
and is then dropped from the facts: nothing downstream (decision, explanation, error message)
carries it. What the decision log keeps in its place is the service's business (a keyed
pseudonym, see ``api.service``).
"""
from __future__ import annotations

import datetime as dt

from stdnum import exceptions as stdnum_errors
from stdnum.it import codicefiscale

from ..errors import InputProblem
from ..i18n import N_, _

FIELD = "codice_fiscale"
_OMOCODIA = str.maketrans("LMNPQRSTUV", "0123456789")
_DIGIT_POSITIONS = (6, 7, 9, 10, 12, 13, 14)  # where letters replace digits in an omocode (omocodia)


def _problem(path: tuple, error: Exception) -> InputProblem:
    # never echo the code itself: it is personal data
    why = {stdnum_errors.InvalidChecksum: N_("the check character is wrong"),
           stdnum_errors.InvalidLength: N_("it must have 16 characters (11 digits for a provisional code)"),
           stdnum_errors.InvalidFormat: N_("its characters are not in the pattern of a codice fiscale"),
           stdnum_errors.InvalidComponent: N_("it holds no real date of birth")}
    reason = next((text for kind, text in why.items() if isinstance(error, kind)), N_("it is not valid"))
    return InputProblem(path + (FIELD,), "invalid_codice_fiscale",
                        _("not a valid codice fiscale: {reason}", reason=_(reason)))


def birth_date_and_gender(code: str, as_of: dt.date) -> tuple[dt.date, str] | None:
    """(birth date, "F"/"M") from a valid personal code; None for an 11-digit provisional one.

    The code stores two digits of the year: the century is the one that makes the person
    between 0 and 99 years old at ``as_of``.
    """
    code = codicefiscale.compact(code)
    if len(code) != 16:
        return None
    born = codicefiscale.get_birth_date(code, minyear=as_of.year - 99)
    if born > as_of:
        born = born.replace(year=born.year - 100) if not (born.month == 2 and born.day == 29) else \
            dt.date(born.year - 100, 2, 28)
    plain = "".join(ch.translate(_OMOCODIA) if i in _DIGIT_POSITIONS else ch for i, ch in enumerate(code))
    return born, codicefiscale.get_gender(plain)


def expand(raw: dict, as_of: dt.date, path: tuple) -> tuple[dict, list[InputProblem]]:
    """``raw`` without the codice fiscale, with ``birth_date`` and ``gender`` taken from it when not given.

    Problems: an invalid code (format, omocodia letters, check character), or a given birth
    date or gender that contradicts it (named at the given field).
    """
    if FIELD not in raw:
        return raw, []
    facts = {k: v for k, v in raw.items() if k != FIELD}
    code = raw[FIELD]
    if not isinstance(code, str) or len(code) > 32:
        return facts, [InputProblem(path + (FIELD,), "invalid_codice_fiscale",
                                    _("a codice fiscale is text of 16 characters"))]
    try:
        codicefiscale.validate(code)
        derived = birth_date_and_gender(code, as_of)
    except stdnum_errors.ValidationError as exc:
        return facts, [_problem(path, exc)]
    if derived is None:
        return facts, []
    born, gender = derived
    problems = []
    given_birth = facts.get("birth_date")
    if given_birth is None:
        facts["birth_date"] = born.isoformat()
    elif given_birth != born.isoformat() and given_birth != born:
        problems.append(InputProblem(path + ("birth_date",), "contradicts_codice_fiscale",
                                     _("birth_date does not match the date of birth in codice_fiscale")))
    if facts.get("gender") is None:
        facts["gender"] = gender
    elif facts["gender"] != gender:
        problems.append(InputProblem(path + ("gender",), "contradicts_codice_fiscale",
                                     _("gender does not match the gender in codice_fiscale")))
    return facts, problems
