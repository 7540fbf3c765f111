from broker.kit.problems import Conflict, Forbidden, InvalidField, NotFound, Problem, Stated, Worded


class PersonNotFound(Worded, NotFound):
    wording = ("no person '{}'", "未找到人员“{}”")
    member = "person_id"


class UsernameTaken(Worded, Conflict):
    slug = "username-taken"
    title = "The username is taken"
    title_zh = "用户名已被占用"
    wording = ("the username '{}' is taken", "用户名“{}”已被占用")
    field = "username"


class UnknownRole(InvalidField):
    def __init__(self, value: str, known: list[str]) -> None:
        super().__init__(
            "role",
            f"'{value}' is not a role; one of {', '.join(known)}",
            f"“{value}”不是有效的角色；可选：{'、'.join(known)}",
        )


class SignInRefused(Stated, Problem):
    """Wrong username, password or one-time code: one answer for all, so none is an oracle."""

    status = 401
    slug = "sign-in-refused"
    title = "Sign-in refused"
    title_zh = "登录被拒绝"
    statement = (
        "the username, password or one-time code is not right",
        "用户名、密码或动态口令不正确",
    )


class PersonRequired(Stated, Forbidden):
    slug = "person-required"
    title = "A person must make this decision"
    title_zh = "须由首席数据官本人登录审批"
    detail_on_pages = False
    statement = (
        "decisions are made by a person who signs in (the console, or an application "
        "using the person's token), not with client credentials",
        "审批须由本人登录办理（首席数据官工作台，或使用本人令牌的应用），"
        "不能以系统的客户端凭据审批",
    )


class NotTheAppointedPerson(Forbidden):
    slug = "not-the-appointed-cdo"
    title = "Not the body's appointed CDO"
    title_zh = "您不是该单位在任的首席数据官"
    said_zh = "您不是该单位在任的首席数据官，不能审批"
    detail_on_pages = False
