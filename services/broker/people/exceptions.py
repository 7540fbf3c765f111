from broker.kit.problems import Conflict, Forbidden, InvalidField, NotFound, Problem


class PersonNotFound(NotFound):
    def __init__(self, person_id: str) -> None:
        super().__init__(f"no person '{person_id}'", person_id=person_id)


class UsernameTaken(Conflict):
    slug = "username-taken"
    title = "The username is taken"


class UnknownRole(InvalidField):
    pass


class SignInRefused(Problem):
    """Wrong username, password or one-time code: one answer for all, so none is an oracle."""

    status = 401
    slug = "sign-in-refused"
    title = "Sign-in refused"


class PersonRequired(Forbidden):
    slug = "person-required"
    title = "须由首席数据官本人登录审批 / A person must make this decision"


class NotTheAppointedPerson(Forbidden):
    slug = "not-the-appointed-cdo"
    title = "您不是该单位在任的首席数据官 / Not the body's appointed CDO"
