from broker.kit.problems import Conflict, NotFound, Problem


class OrganisationNotFound(NotFound):
    def __init__(self, organisation_id: str) -> None:
        super().__init__(f"no organisation '{organisation_id}'", organisation_id=organisation_id)


class AppointmentNotFound(NotFound):
    def __init__(self, appointment_id: str) -> None:
        super().__init__(f"no appointment '{appointment_id}'", appointment_id=appointment_id)


class OrganisationExists(Conflict):
    slug = "organisation-exists"
    title = "Organisation exists"


class AppointmentOverlaps(Conflict):
    slug = "appointment-overlaps"
    title = "The body already has a CDO for that period"


class InvalidDirectoryChange(Problem):
    status = 422
    slug = "invalid-directory-change"
    title = "Invalid directory change"


class NoActiveCDO(Problem):
    status = 422
    slug = "no-active-cdo"
    title = "The body has no active CDO"


class NotYourCDO(Problem):
    status = 403
    slug = "not-your-cdo"
    title = "Not your CDO"
