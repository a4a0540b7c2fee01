"""National code lists, as the DfE CIN census and SSDA903 define them.

Source: ../shared/reference/domain-facts.md (sections 1 and 2), which cites the DfE schema.
Stored values are the national codes themselves, so statutory returns need no translation.
"""

from __future__ import annotations

from django.db import models


class Sex(models.TextChoices):
    # CIN census 2024-25 onwards: M, F or U (an unborn child must be U).
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    UNKNOWN = "U", "Unknown or not recorded"


class Ethnicity(models.TextChoices):
    WBRI = "WBRI", "White: British"
    WIRI = "WIRI", "White: Irish"
    WIRT = "WIRT", "White: Traveller of Irish heritage"
    WOTH = "WOTH", "White: any other White background"
    WROM = "WROM", "White: Gypsy or Roma"
    MWBC = "MWBC", "Mixed: White and Black Caribbean"
    MWBA = "MWBA", "Mixed: White and Black African"
    MWAS = "MWAS", "Mixed: White and Asian"
    MOTH = "MOTH", "Mixed: any other mixed background"
    AIND = "AIND", "Asian or Asian British: Indian"
    APKN = "APKN", "Asian or Asian British: Pakistani"
    ABAN = "ABAN", "Asian or Asian British: Bangladeshi"
    AOTH = "AOTH", "Asian or Asian British: any other Asian background"
    BCRB = "BCRB", "Black or Black British: Caribbean"
    BAFR = "BAFR", "Black or Black British: African"
    BOTH = "BOTH", "Black or Black British: any other Black background"
    CHNE = "CHNE", "Chinese"
    OOTH = "OOTH", "Any other ethnic group"
    REFU = "REFU", "Refused"
    NOBT = "NOBT", "Information not yet obtained"


class ReferralSource(models.TextChoices):
    S1A = "1A", "Individual: family member, relative or carer"
    S1B = "1B", "Individual: acquaintance (including neighbours and child minders)"
    S1C = "1C", "Individual: self"
    S1D = "1D", "Individual: other (including strangers)"
    S2A = "2A", "Schools"
    S2B = "2B", "Education services"
    S3A = "3A", "Health: GP"
    S3B = "3B", "Health: health visitor"
    S3C = "3C", "Health: school nurse"
    S3D = "3D", "Health: other primary health services"
    S3E = "3E", "Health: A&E"
    S3F = "3F", "Health: other (e.g. hospice)"
    S4 = "4", "Housing"
    S5A = "5A", "LA services: social care"
    S5B = "5B", "LA services: other internal"
    S5C = "5C", "LA services: external"
    S5D = "5D", "LA services: early help"
    S6 = "6", "Police"
    S7 = "7", "Other legal agency"
    S8 = "8", "Other"
    S9 = "9", "Anonymous"
    S10 = "10", "Unknown"


class PrimaryNeed(models.TextChoices):
    N1 = "N1", "Abuse or neglect"
    N2 = "N2", "Child's disability"
    N3 = "N3", "Parental disability or illness"
    N4 = "N4", "Family in acute stress"
    N5 = "N5", "Family dysfunction"
    N6 = "N6", "Socially unacceptable behaviour"
    N7 = "N7", "Low income"
    N8 = "N8", "Absent parenting"
    N9 = "N9", "Cases other than children in need"
    N0 = "N0", "Not stated"


class CategoryOfAbuse(models.TextChoices):
    NEG = "NEG", "Neglect"
    PHY = "PHY", "Physical abuse"
    SAB = "SAB", "Sexual abuse"
    EMO = "EMO", "Emotional abuse"
    MUL = "MUL", "Multiple / not recommended"


class LegalStatus(models.TextChoices):
    C1 = "C1", "Interim care order"
    C2 = "C2", "Full care order"
    D1 = "D1", "Freeing order granted"
    E1 = "E1", "Placement order granted"
    V2 = "V2", "Accommodated under section 20 (single period)"
    V3 = "V3", "Short breaks: individual episodes recorded"
    V4 = "V4", "Short breaks: agreements recorded"
    L1 = "L1", "Police protection, in LA accommodation"
    L2 = "L2", "Emergency protection order"
    L3 = "L3", "Child assessment order, in LA accommodation"
    J1 = "J1", "Remanded to LA or youth detention accommodation"
    J2 = "J2", "Placed in LA accommodation under PACE 1984"
    J3 = "J3", "Youth rehabilitation order with residence or fostering requirement"


class CinClosureReason(models.TextChoices):
    RC1 = "RC1", "Adopted"
    RC2 = "RC2", "Died"
    RC3 = "RC3", "Child arrangements order"
    RC4 = "RC4", "Special guardianship order"
    RC5 = "RC5", "Transferred to services of another local authority"
    RC6 = "RC6", "Transferred to adult social care services"
    RC7 = "RC7", "Services ceased for any other reason, including child no longer in need"
    RC8 = "RC8", "Case closed after assessment, no further action"
    RC9 = "RC9", "Case closed after assessment, referred to early help"


ASSESSMENT_FACTORS: dict[str, str] = {
    "1A": "Alcohol misuse: child",
    "1B": "Alcohol misuse: parent or carer",
    "1C": "Alcohol misuse: other person in household",
    "2A": "Drug misuse: child",
    "2B": "Drug misuse: parent or carer",
    "2C": "Drug misuse: other person in household",
    "3A": "Domestic violence: child",
    "3B": "Domestic violence: parent or carer",
    "3C": "Domestic violence: other person in household",
    "4A": "Mental health: child",
    "4B": "Mental health: parent or carer",
    "4C": "Mental health: other person in household",
    "5A": "Learning disability: child",
    "5B": "Learning disability: parent or carer",
    "5C": "Learning disability: other person in household",
    "6A": "Physical disability or illness: child",
    "6B": "Physical disability or illness: parent or carer",
    "6C": "Physical disability or illness: other person in household",
    "7A": "Young carer",
    "8B": "Privately fostered: overseas child intending to return",
    "8C": "Privately fostered: overseas child intending to stay",
    "8D": "Privately fostered: UK child in an educational placement",
    "8E": "Privately fostered: UK child in an alternative family arrangement",
    "8F": "Privately fostered: other",
    "9A": "Unaccompanied asylum-seeking child",
    "10A": "Going or being missing",
    "11A": "Child sexual exploitation",
    "12A": "Trafficking",
    "13A": "Gangs",
    "14A": "Socially unacceptable behaviour",
    "15A": "Self-harm",
    "16A": "Neglect",
    "17A": "Emotional abuse",
    "18B": "Physical abuse: child on child",
    "18C": "Physical abuse: adult on child",
    "19B": "Sexual abuse: child on child",
    "19C": "Sexual abuse: adult on child",
    "20": "Other",
    "21": "No factors identified",
    "22A": "Female genital mutilation",
    "23A": "Abuse linked to faith or belief",
    "24A": "Child criminal exploitation",
}


# Adult Client Level Data Event_Outcome values (NHS England; domain-facts.md section 6.1).
# Closures map to the NFA outcomes.
CLD_EVENT_OUTCOMES: tuple[str, ...] = (
    "Progress to Reablement/ST-Max",
    "Progress to Assessment",
    "Admitted to Hospital",
    "Progress to Re-assessment / Unplanned Review",
    "Progress to Support Planning / Services",
    "Progress to End of Life Care",
    "No change in package",
    "Service ended as planned",
    "Progress to financial assessment",
    "Provision of service",
    "NFA - Deceased",
    "NFA - Moved to another LA",
    "NFA - 100% NHS-funded care",
    "NFA - Information & Advice / Signposting only",
    "NFA - Self-funded client (inc. 12wk disregard)",
    "NFA - Support declined",
    "NFA - Support ended - other reason",
    "NFA - No services offered - other reason",
    "NFA - Other",
)
