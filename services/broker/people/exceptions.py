from broker.kit.problems import Conflict, Forbidden, InvalidField, NotFound, Problem


class PersonNotFound(NotFound):
    def __init__(self, person_id: str) -> None:
        super().__init__(f"no person '{person_id}'", person_id=person_id)


class UsernameTaken(Conflict):
    slug = "username-taken"
    title = "The username is taken"
    title_zh = "用户名已被占用"


class UnknownRole(InvalidField):
    pass


class SignInRefused(Problem):
    """Wrong username, password or one-time code: one answer for all, so none is an oracle."""

    status = 401
    slug = "sign-in-refused"
    title = "Sign-in refused"
    title_zh = "登录被拒绝"


class PersonRequired(Forbidden):
    slug = "person-required"
    title = "A person must make this decision"
    title_zh = "须由首席数据官本人登录审批"


class NotTheAppointedPerson(Forbidden):
    slug = "not-the-appointed-cdo"
    title = "Not the body's appointed CDO"
    title_zh = "您不是该单位在任的首席数据官"
