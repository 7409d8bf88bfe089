//! The API's one error type, rendered once as `application/problem+json` (RFC 9457) with a
//! stable machine `code`, a `title` in Simplified Chinese (English with `Accept-Language: en`)
//! and the HTTP `status`.
use poem::{
    Endpoint, IntoResponse, Request, Response,
    error::{MethodNotAllowedError, NotFoundError, ResponseError},
    http::{StatusCode, header},
};
use poem_openapi::{
    ApiResponse, Object,
    registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::Type,
};

use crate::services::ServiceError;

macro_rules! codes {
    ($($variant:ident => ($status:literal, $slug:literal, $zh:literal, $en:literal),)*) => {
        /// Every problem the API can answer with. The slug is a public contract: never rename one.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub fn status(self) -> StatusCode {
                match self { $(Code::$variant => StatusCode::from_u16($status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),)* }
            }
            pub fn slug(self) -> &'static str {
                match self { $(Code::$variant => $slug,)* }
            }
            pub fn title(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((Code::$variant, Lang::Zh) => $zh, (Code::$variant, Lang::En) => $en,)*
                }
            }
            /// The whole catalogue, for the API description.
            pub fn all() -> &'static [Code] { &[$(Code::$variant,)*] }
        }
    };
}

codes! {
    InvalidBody => (400, "invalid_body", "请求格式错误", "The request body or parameters are malformed"),
    InvalidField => (422, "invalid_field", "字段取值无效", "A field has an invalid value"),
    TextTooLong => (422, "text_too_long", "文字超出长度限制", "A text field is too long"),
    TextEmpty => (422, "text_empty", "文字不能为空", "A required text field is empty"),
    InvalidText => (422, "invalid_text", "文字含有不允许的控制字符或不可见字符", "The text contains control, bidirectional override or only invisible characters"),
    InvalidPhone => (422, "invalid_phone", "电话号码格式不正确", "The phone number is not valid"),
    InvalidLocation => (422, "invalid_location", "位置坐标无效", "The location is not valid"),
    OutsideServiceArea => (422, "outside_service_area", "不在本街道受理范围", "The location is outside the area this street serves"),
    InvalidBoundary => (422, "invalid_boundary", "边界不是有效的多边形", "The boundary is not a valid Polygon or MultiPolygon"),
    InvalidParent => (422, "invalid_parent", "上级区域不正确", "The parent area does not fit this kind of area"),
    NotAGrid => (422, "not_a_grid", "该区域不是网格", "The area is not a grid"),
    UnknownArea => (422, "unknown_area", "区域不存在", "The area does not exist"),
    UnknownCategory => (422, "unknown_category", "诉求类别不存在或已停用", "The category does not exist or is inactive"),
    UnknownBuilding => (422, "unknown_building", "楼栋不存在", "The building does not exist"),
    BuildingOutsideGrid => (422, "building_outside_grid", "楼栋位置不在所选网格内", "The building's location lies outside its grid"),
    UnknownStaff => (422, "unknown_staff", "工作人员不存在或不在岗", "The staff member does not exist or is not active"),
    RoleAreaMismatch => (422, "role_area_mismatch", "角色与区域层级不符", "The role does not fit the kind of area"),
    CannotEscalate => (422, "cannot_escalate", "已在最高层级，无法上报", "The ticket is already at the highest level"),
    InvalidCursor => (400, "invalid_cursor", "分页游标无效", "The cursor is not valid"),
    JsonTooDeep => (400, "json_too_deep", "JSON 嵌套层级过深", "The JSON body is nested too deeply"),
    InvalidIdempotencyKey => (400, "invalid_idempotency_key", "幂等键格式无效", "The Idempotency-Key header must be 1-128 visible ASCII characters"),
    IdempotencyKeyReused => (422, "idempotency_key_reused", "该幂等键已用于不同的请求", "This Idempotency-Key was used with a different request"),
    Unauthorized => (401, "unauthorized", "未登录或登录已失效", "Missing or invalid credentials"),
    InvalidCredentials => (401, "invalid_credentials", "账号或密码错误", "Wrong login or password"),
    WrongPassword => (422, "wrong_password", "原密码不正确", "The current password is wrong"),
    WechatNotBound => (401, "wechat_not_bound", "该微信未绑定工作人员账号", "This WeChat account is not bound to a staff member"),
    WechatCodeInvalid => (401, "wechat_code_invalid", "微信登录凭证无效", "The WeChat login code is invalid"),
    Forbidden => (403, "forbidden", "无权执行此操作", "You may not do this"),
    PasswordChangeRequired => (403, "password_change_required", "请先修改初始密码", "Choose your own password first: POST /api/v1/staff/me/password"),
    AccountClosed => (409, "account_closed", "账号已申请注销", "This account was closed by its holder"),
    WeakPassword => (422, "weak_password", "密码强度不足：至少 10 位，包含大写字母、小写字母、数字、符号中的三类", "At least 10 characters of three kinds: upper case, lower case, digits, symbols"),
    NotAssignee => (403, "not_assignee", "只有承办人或上级管理员可以操作", "Only the assignee or an admin above may do this"),
    NotFound => (404, "not_found", "资源不存在", "Not found"),
    MethodNotAllowed => (405, "method_not_allowed", "不支持的请求方法", "Method not allowed"),
    InvalidTransition => (409, "invalid_transition", "当前状态不允许此操作", "The ticket's current status does not allow this"),
    ConcurrentUpdate => (409, "concurrent_update", "工单已被他人更新，请刷新后重试", "The ticket was changed by someone else; reload and retry"),
    ReturnVisitNotDue => (409, "return_visit_not_due", "该工单无需回访或已回访", "No return visit is due for this ticket"),
    ReturnRefused => (409, "return_refused", "您的退单已被驳回，不能再次退单", "Your return of this ticket was refused; it cannot be returned again"),
    TransferOutsideGrid => (403, "transfer_outside_grid", "网格员只能在本网格内转派，不属于本网格的工单请退单", "Grid staff transfer within their grid only; return a ticket that is not theirs"),
    ExtensionPending => (409, "extension_pending", "该工单已有待审批的延期或挂账申请", "The ticket has a request for more time waiting for a decision"),
    TicketInTopic => (409, "ticket_in_topic", "工单已纳入另一个未结束的每月一题", "A ticket already belongs to another open topic"),
    TopicClosed => (409, "topic_closed", "该每月一题已结束", "The topic is closed"),
    ExtensionDecided => (409, "extension_decided", "该申请已审批", "The request was decided already"),
    ExtensionTooLate => (409, "extension_too_late", "已超过办理时限，不能再申请延期或挂账", "The resolution deadline has passed; more time can no longer be asked for"),
    AppealPending => (409, "appeal_pending", "该工单已有待审核的甄别申请", "The ticket has an appeal waiting for a decision"),
    AppealDecided => (409, "appeal_decided", "该甄别申请已审核", "The appeal was decided already"),
    NotAppealable => (409, "not_appealable", "该工单不计入考核，无需甄别", "The ticket is in no rate, so there is nothing to appeal"),
    AlreadyExists => (409, "already_exists", "记录已存在", "It already exists"),
    AreaInUse => (409, "area_in_use", "区域仍被使用，无法删除", "The area is still in use and cannot be deleted"),
    LastAdmin => (409, "last_admin", "不能停用、降级或删除最后一名系统管理员", "The last active system administrator cannot be disabled, demoted or deleted"),
    PayloadTooLarge => (413, "payload_too_large", "请求体过大", "The request body is too large"),
    RateLimited => (429, "rate_limited", "请求过于频繁，请稍后再试", "Too many requests; retry later"),
    LoginLocked => (429, "login_locked", "登录失败次数过多，账号暂时锁定，请稍后再试", "Too many failed logins; this account is locked for a while"),
    NotAnImage => (415, "not_an_image", "只能上传 JPEG、PNG、WebP 或 HEIC 图片", "Only JPEG, PNG, WebP or HEIC images"),
    PrivacyNoticePending => (409, "privacy_notice_pending", "请先阅读并同意最新的隐私保护指引", "Agree to the current privacy notice first"),
    ContentRejected => (422, "content_rejected", "内容未通过安全检测", "The text was refused by content safety checks"),
    InvalidAttachment => (422, "invalid_attachment", "附件无效或不属于你", "An attachment is unknown, not yours or already used"),
    TooManyAttachments => (422, "too_many_attachments", "附件数量超出限制", "Too many photos for one ticket"),
    ResolutionPhotoRequired => (422, "resolution_photo_required", "该类别办结时须上传现场照片", "This category needs a photo of the fix to resolve"),
    UnsupportedMediaType => (415, "unsupported_media_type", "不支持的内容类型", "Unsupported content type"),
    Internal => (500, "internal_error", "服务器内部错误", "Internal server error"),
    DatabaseUnavailable => (503, "database_unavailable", "数据库暂不可用，请稍后重试", "The database is unavailable; retry later"),
    WechatUnavailable => (503, "wechat_unavailable", "微信服务暂不可用，请稍后重试", "WeChat is unavailable; retry later"),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The first language of `Accept-Language` decides; Chinese unless it is English.
    pub fn from_request(req: &Request) -> Lang {
        let first = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|tag| tag.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if first.starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

/// Separates the Chinese and English halves of a detail made by [`bi`].
const LANG_SEPARATOR: char = '\u{1F}';

/// A detail in both languages: Chinese by default, English with `Accept-Language: en`.
pub fn bi(zh: impl std::fmt::Display, en: impl std::fmt::Display) -> String {
    format!("{zh}{LANG_SEPARATOR}{en}")
}

/// The half of a detail for `lang`; a detail in one language only is shown as it is.
pub fn in_lang(detail: &str, lang: Lang) -> String {
    match (detail.split_once(LANG_SEPARATOR), lang) {
        (Some((zh, _)), Lang::Zh) => zh.to_owned(),
        (Some((_, en)), Lang::En) => en.to_owned(),
        (None, _) => detail.to_owned(),
    }
}

/// A problem answer: what went wrong, for a machine (`code`) and a person (`title`, `detail`).
#[derive(Debug, thiserror::Error)]
#[error("{}: {}", code.slug(), detail.as_deref().unwrap_or(""))]
pub struct ApiError {
    pub code: Code,
    pub detail: Option<String>,
    pub field: Option<String>,
    /// For 409s on tickets: the status the ticket is in now.
    pub current_status: Option<String>,
    /// For 429s: seconds until the window resets (also sent as `Retry-After`).
    pub retry_after: Option<u64>,
}

/// The body of every error response.
#[derive(Debug, Object)]
#[oai(rename = "Problem")]
pub struct ProblemBody {
    /// Stable machine-readable code, e.g. `invalid_transition`.
    pub code: String,
    /// Short human title, zh-CN by default, English with `Accept-Language: en`.
    pub title: String,
    pub status: u16,
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
    /// The request field at fault, when one is.
    #[oai(skip_serializing_if_is_none)]
    pub field: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub current_status: Option<String>,
}

impl ApiError {
    pub fn new(code: Code) -> Self {
        ApiError {
            code,
            detail: None,
            field: None,
            current_status: None,
            retry_after: None,
        }
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn render(&self, lang: Lang) -> Response {
        let body = ProblemBody {
            code: self.code.slug().to_owned(),
            title: self.code.title(lang).to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail.as_deref().map(|d| in_lang(d, lang)),
            field: self.field.clone(),
            current_status: self.current_status.clone(),
        };
        let json = poem_openapi::types::ToJSON::to_json_string(&body);
        let mut resp = Response::builder()
            .status(self.code.status())
            .content_type("application/problem+json");
        if let Some(secs) = self.retry_after {
            resp = resp.header(header::RETRY_AFTER, secs.max(1).to_string());
        }
        resp.body(json)
    }

    /// Classifies any error poem or poem-openapi raised before a handler ran.
    fn from_poem(err: &poem::Error) -> ApiError {
        use poem_openapi::error::*;
        if let Some(api) = err.downcast_ref::<ApiError>() {
            return ApiError {
                ..api.clone_shallow()
            };
        }
        if let Some(p) = err.downcast_ref::<ParseParamError>() {
            return ApiError::new(Code::InvalidBody).field(p.name).detail(bi(
                format_args!("参数「{}」的取值无效", p.name),
                format_args!("the parameter `{}` has an invalid value", p.name),
            ));
        }
        if err.is::<ParsePathError>() {
            return ApiError::new(Code::InvalidBody).detail(bi(
                "路径中的标识无效",
                "an identifier in the path is not valid",
            ));
        }
        if err.is::<ParseRequestPayloadError>() || err.is::<ParseMultipartError>() {
            return ApiError::new(Code::InvalidBody)
                .detail(bi("请求体格式不正确", "the request body is malformed"));
        }
        if err.is::<ContentTypeError>() {
            return ApiError::new(Code::UnsupportedMediaType)
                .detail(bi(format_args!("不支持的内容类型：{err}"), err));
        }
        if err.is::<AuthorizationError>() {
            return ApiError::new(Code::Unauthorized);
        }
        if err.is::<NotFoundError>() {
            return ApiError::new(Code::NotFound);
        }
        if err.is::<MethodNotAllowedError>() {
            return ApiError::new(Code::MethodNotAllowed);
        }
        match err.status() {
            StatusCode::NOT_FOUND => ApiError::new(Code::NotFound),
            StatusCode::UNAUTHORIZED => ApiError::new(Code::Unauthorized),
            StatusCode::METHOD_NOT_ALLOWED => ApiError::new(Code::MethodNotAllowed),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(Code::UnsupportedMediaType),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(Code::PayloadTooLarge),
            s if s.is_client_error() => ApiError::new(Code::InvalidBody).detail(err.to_string()),
            _ => {
                tracing::error!(error = %err, "unclassified error");
                ApiError::new(Code::Internal)
            }
        }
    }

    fn clone_shallow(&self) -> ApiError {
        ApiError {
            code: self.code,
            detail: self.detail.clone(),
            field: self.field.clone(),
            current_status: self.current_status.clone(),
            retry_after: self.retry_after,
        }
    }
}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.code.status()
    }
    fn as_response(&self) -> Response {
        self.render(Lang::Zh)
    }
}

impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "A problem (RFC 9457) with a stable `code`; see the API description for the list.",
                status: None,
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "application/problem+json",
                    schema: MetaSchemaRef::Reference(ProblemBody::name().into_owned()),
                }],
                headers: vec![],
            }],
        }
    }
    fn register(registry: &mut Registry) {
        <ProblemBody as Type>::register(registry);
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Rejected {
                code,
                field,
                detail,
            } => ApiError {
                code,
                field,
                detail,
                current_status: None,
                retry_after: None,
            },
            ServiceError::NotFound => ApiError::new(Code::NotFound),
            ServiceError::Forbidden => ApiError::new(Code::Forbidden),
            ServiceError::NotAssignee => ApiError::new(Code::NotAssignee),
            ServiceError::InvalidTransition { current, action } => ApiError {
                current_status: Some(current.as_str().to_owned()),
                ..ApiError::new(Code::InvalidTransition).detail(bi(
                    format_args!("工单当前状态为 {}，不能执行 {action}", current.as_str()),
                    format_args!(
                        "`{action}` is not allowed while the ticket is {}",
                        current.as_str()
                    ),
                ))
            },
            ServiceError::ConcurrentUpdate => ApiError::new(Code::ConcurrentUpdate),
            ServiceError::Throttled { code, retry_after } => ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(code)
            },
            ServiceError::Db(db) => from_db(db),
            ServiceError::WechatCodeInvalid => ApiError::new(Code::WechatCodeInvalid),
            ServiceError::WechatUnavailable(why) => {
                tracing::warn!(reason = %why, "wechat unavailable");
                ApiError::new(Code::WechatUnavailable)
            }
            ServiceError::Internal(why) => {
                tracing::error!(error = %why, "internal error");
                ApiError::new(Code::Internal)
            }
        }
    }
}

fn from_db(err: sea_orm::DbErr) -> ApiError {
    use sea_orm::{DbErr, SqlErr};
    // The driver's words name tables and values: they are logged, never sent.
    if let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() {
        tracing::info!(constraint = %detail, "unique constraint refused a write");
        return ApiError::new(Code::AlreadyExists);
    }
    match &err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
            tracing::error!(error = %err, "database unavailable");
            ApiError::new(Code::DatabaseUnavailable)
        }
        DbErr::Exec(e) | DbErr::Query(e) if is_connection_fault(&e.to_string()) => {
            tracing::error!(error = %err, "database unavailable");
            ApiError::new(Code::DatabaseUnavailable)
        }
        _ => {
            tracing::error!(error = ?err, "database error");
            ApiError::new(Code::Internal)
        }
    }
}

fn is_connection_fault(msg: &str) -> bool {
    let msg = msg.to_ascii_lowercase();
    [
        "connection refused",
        "broken pipe",
        "connection reset",
        "pool timed out",
        "terminating connection",
        "database is locked",
    ]
    .iter()
    .any(|m| msg.contains(m))
}

/// Middleware: every error leaving the app becomes a localized problem+json response.
pub async fn render_errors<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let lang = Lang::from_request(&req);
    match ep.call(req).await {
        Ok(resp) => Ok(resp.into_response()),
        Err(err) => {
            let mut resp = ApiError::from_poem(&err).render(lang);
            // The route it matched, for the metrics (`edge::observe`).
            if let Some(pattern) = err.data::<poem::PathPattern>() {
                resp.set_data(pattern.clone());
            }
            Ok(resp)
        }
    }
}

/// Markdown for the API description: the code catalogue.
pub fn catalogue_markdown() -> String {
    let mut out = String::from("| status | code | title |\n|---|---|---|\n");
    for code in Code::all() {
        out.push_str(&format!(
            "| {} | `{}` | {} |\n",
            code.status().as_u16(),
            code.slug(),
            code.title(Lang::En)
        ));
    }
    out
}
