//! The handlers (a few lines each over the library), the error body with the one mapping from
//! the diagnostic model to HTTP statuses ([`status_of`]), and the OpenAPI document generated
//! from the handler types.
//!
//! Invariant: evaluation goes through `eval::facts::read_facts` and `eval::evaluate`, exactly
//! as `huiqi eval --format json` does, and the answer is the bytes serde_json writes for
//! `report::eval_report` of the outcome ([`super::answer`] writes them without building the
//! report), so both answer the same facts with the same document.

use super::RULESET_HEADER;
use super::rules::{Refused, RuleSet};
use super::server::AppState;
use crate::diag::render::diag_json;
use crate::diag::{Code, Diagnostic};
use crate::eval::facts::{FactError, default_period, meta_as_of, parse_facts, read_facts};
use crate::eval::{EvalOptions, Lang, Ledger, evaluate};
use crate::report::EvalReport;
use crate::span::SourceMap;
use crate::value::Date;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The body of every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// A diagnostic code (`E0401` …, see docs/diagnostics.md) or a service code
    /// (`body_too_large`, `timeout`, `overloaded`, `unauthorized`, `not_found`, `bad_request`,
    /// `no_period`, `reload_refused`; see docs/service.md).
    pub code: String,
    /// One sentence saying what is wrong.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Every problem found in the input, each with its code, JSON path, message and help,
    /// as `huiqi eval` reports them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorItem>,
    /// For a refused reload: the compiler's diagnostics.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub diagnostics: Option<crate::diag::render::DiagnosticsReport>,
}

/// One problem in a facts or ledger input.
#[derive(Serialize, Debug, Clone, ToSchema)]
pub struct ErrorItem {
    pub code: String,
    /// The JSON path of the offending value, e.g. `营业收入.2023` (or `line L, column C` for
    /// JSON that does not parse).
    pub path: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// An error answer: a status and its body.
pub struct ApiError {
    pub status: StatusCode,
    pub body: Box<ErrorBody>,
}

/// The one mapping from the diagnostic model to HTTP: input that is not JSON is a bad request
/// (400); input that is JSON but not valid facts or ledger is unprocessable (422); anything
/// else reaching a client is the service's fault (500).
pub fn status_of(code: Code) -> StatusCode {
    match code {
        Code::FactsSyntax => StatusCode::BAD_REQUEST,
        Code::UnknownFact | Code::FactType | Code::LedgerInvalid | Code::FactOutOfRange => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> ApiError {
        let help = help.into();
        ApiError {
            status,
            body: Box::new(ErrorBody {
                code: code.to_string(),
                message: message.into(),
                help: (!help.is_empty()).then_some(help),
                errors: Vec::new(),
                diagnostics: None,
            }),
        }
    }

    /// Facts problems, as `huiqi eval` reports them; the status follows the first code.
    pub fn facts(errors: Vec<FactError>) -> ApiError {
        let items: Vec<ErrorItem> = errors
            .into_iter()
            .map(|e| ErrorItem {
                code: e.code.id().to_string(),
                path: e.path,
                message: e.message,
                help: Some(e.help),
            })
            .collect();
        let first = errors_first_code(&items);
        let mut e = ApiError::new(
            status_of(first),
            first.id(),
            format!("{} problem(s) in the facts; nothing was evaluated", items.len()),
            "",
        );
        e.body.errors = items;
        e
    }

    /// Diagnostics about an input (the ledger); the status follows the first.
    pub fn diagnostics(ds: &[Diagnostic]) -> ApiError {
        let sources = SourceMap::new();
        let items: Vec<ErrorItem> = ds
            .iter()
            .map(|d| {
                let j = diag_json(d, &sources);
                ErrorItem {
                    code: j.code.to_string(),
                    path: j.path.unwrap_or_default(),
                    message: j.message,
                    help: j.help,
                }
            })
            .collect();
        let first = ds.first().map_or(Code::LedgerInvalid, |d| d.code);
        let message = match items.as_slice() {
            [one] => one.message.clone(),
            _ => format!("{} problem(s) in the input; nothing was evaluated", items.len()),
        };
        let mut e = ApiError::new(status_of(first), first.id(), message, "");
        e.body.errors = items;
        e
    }

    pub fn refused(r: Refused) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reload_refused",
            r.message,
            "fix the diagnostics (`huiqi check`) and reload again",
        );
        e.body.diagnostics = r.diagnostics;
        e
    }

    pub fn not_found(message: impl Into<String>, help: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message, help)
    }
}

fn errors_first_code(items: &[ErrorItem]) -> Code {
    items.first().and_then(|i| Code::ALL.iter().copied().find(|c| c.id() == i.code)).unwrap_or(Code::FactType)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body)
    }
}

/// A JSON answer (serialisation of these report types cannot fail; if it did, the answer
/// says so with a 500 rather than panicking).
pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut r = (status, bytes).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        Err(e) => {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot write the answer: {e}")).into_response()
        }
    }
}

/// Query parameters of `POST /v1/evaluate`.
#[derive(Deserialize, Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvalQuery {
    /// The period (year) to evaluate for; default: the body's `$period`, else the latest
    /// year of any series in the facts.
    pub period: Option<i32>,
    /// The evaluation date (YYYY-MM-DD); default: the body's `$as_of`, else the period's
    /// last day.
    pub as_of: Option<String>,
    /// The language of the explanations: `zh` (default) or `en`.
    pub lang: Option<String>,
    /// `false` leaves out the explanation steps: `explanation` is empty and `reasons` name
    /// the failing condition without its values; statuses, amounts and missing facts are the
    /// same.
    pub explain: Option<bool>,
}

/// The `eval --format json` document, with the rule set that produced it.
#[derive(Serialize, ToSchema)]
pub struct ServedReport {
    #[serde(flatten)]
    pub report: EvalReport,
    /// The rule-set version (also in the `x-huiqi-ruleset` header).
    pub ruleset: String,
}

fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_request",
        format!("the query parameters cannot be read: {}", e.body_text()),
        "write e.g. `?period=2024&as_of=2024-06-30&lang=en&explain=false`",
    )
}

/// Evaluates one enterprise: the library's steps, as `huiqi eval --format json` takes them;
/// the answer is the [`ServedReport`] as compact JSON (written by [`super::answer`]), and
/// the evaluations are counted per clause.
pub fn evaluate_body(rules: &RuleSet, body: &[u8], q: &EvalQuery) -> Result<Vec<u8>, ApiError> {
    let prog = &rules.compiled.program;
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::FactsSyntax.id(),
            format!("the body is not UTF-8 text: {e}"),
            "send the facts as JSON in UTF-8",
        )
    })?;
    // numbers exactly as written (no serde_json `arbitrary_precision` in the library)
    let json = match crate::json::Json::parse(text) {
        Ok(v) => v,
        // the library words the syntax error exactly as `huiqi eval` does
        Err(_) => return Err(ApiError::facts(parse_facts(prog, text).err().unwrap_or_default())),
    };
    let facts = read_facts(prog, &json).map_err(ApiError::facts)?;
    let name = json.get("$name").or_else(|| json.get("$id")).and_then(crate::json::Json::as_str);
    let Some(period) = q.period.or_else(|| default_period(&json, &facts)) else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_period",
            "no period: the facts have no `$period` and no yearly series",
            "pass `?period=YEAR`, or give the facts a `$period`",
        ));
    };
    // `?as_of=` wins; else the facts' own `$as_of`; else the period's last day
    let as_of = match q.as_of.as_deref() {
        Some(t) => Some(t.parse::<Date>().map_err(|m| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_request",
                format!("`as_of`: {m}"),
                "write the evaluation date as YYYY-MM-DD, e.g. `?as_of=2024-06-30`",
            )
        })?),
        None => meta_as_of(&json).map_err(|e| ApiError::facts(vec![e]))?,
    };
    let lang = match q.lang.as_deref() {
        None | Some("zh") => Lang::Zh,
        Some("en") => Lang::En,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("unknown language `{other}`"),
                "write `?lang=zh` or `?lang=en`",
            ));
        }
    };
    let ledger = match json.get("$ledger") {
        None | Some(crate::json::Json::Null) => Ledger::default(),
        Some(v) => {
            let l = Ledger::from_json(&v.to_string(), "$ledger").map_err(|d| ApiError::diagnostics(&[*d]))?;
            l.check(prog, "$ledger").map_err(|ds| ApiError::diagnostics(&ds))?;
            l
        }
    };
    let explain = q.explain.unwrap_or(true);
    let outcome = evaluate(prog, &facts, &ledger, EvalOptions { period, as_of, explain });
    rules.count(outcome.results.iter().map(|r| (r.clause, r.status)));
    Ok(rules.answers.write(prog, &outcome, name, lang, &rules.version))
}

/// Evaluate one enterprise.
///
/// The body is the facts JSON that `huiqi eval --facts` takes, optionally with `$as_of` (a
/// date) and `$ledger` (the ledger JSON of earlier grants). The answer is the
/// `eval --format json` document plus `ruleset`.
#[utoipa::path(
    post,
    path = "/v1/evaluate",
    params(EvalQuery),
    request_body(content = Object, description = "facts JSON, as `huiqi eval --facts` takes it", content_type = "application/json"),
    responses(
        (status = 200, description = "the evaluation", body = ServedReport),
        (status = 400, description = "the body is not JSON (or not UTF-8), or a query parameter is malformed", body = ErrorBody),
        (status = 401, description = "a token is required", body = ErrorBody),
        (status = 408, description = "the body did not arrive in time", body = ErrorBody),
        (status = 413, description = "the body is too large", body = ErrorBody),
        (status = 422, description = "the facts or the ledger are invalid: every problem with its JSON path", body = ErrorBody),
        (status = 429, description = "saturated: retry later", body = ErrorBody),
        (status = 503, description = "the evaluation took too long", body = ErrorBody),
    )
)]
pub async fn evaluate_one(
    Extension(rules): Extension<Arc<RuleSet>>,
    query: Result<Query<EvalQuery>, QueryRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(bad_query)?;
    let answer = evaluate_body(&rules, &body, &q)?;
    // the buffer returns to the answers' pool once the body has been sent
    let answer = Bytes::from_owner(super::answer::Pooled(answer));
    let mut r = (StatusCode::OK, answer).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(r)
}

/// A document in the catalogue.
#[derive(Serialize, ToSchema)]
pub struct DocumentSummary {
    pub policy: String,
    pub title: String,
    pub number: Option<String>,
    pub issuer: Option<String>,
    pub issued: Option<String>,
    pub in_force: Option<String>,
    /// Its clause ids, e.g. `5`, `14a`.
    pub clauses: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PoliciesBody {
    pub ruleset: String,
    pub documents: Vec<DocumentSummary>,
}

/// A clause in a document's listing.
#[derive(Serialize, ToSchema)]
pub struct ClauseSummary {
    /// `E23.5`: the path of `GET /v1/clauses/{ref}`.
    #[serde(rename = "ref")]
    pub reference: String,
    pub clause: String,
    pub title: String,
    #[schema(value_type = String)]
    pub kind: crate::syntax::ast::ClauseKind,
    pub quote: Option<String>,
    #[schema(value_type = Object)]
    pub window: Option<crate::ir::view::WindowView>,
}

#[derive(Serialize, ToSchema)]
pub struct PolicyBody<'a> {
    pub ruleset: String,
    /// The document as `huiqi ir` shows it.
    #[schema(value_type = Object)]
    pub document: &'a crate::ir::view::DocumentView,
    pub clauses: Vec<ClauseSummary>,
}

#[derive(Serialize, ToSchema)]
pub struct ClauseBody<'a> {
    pub ruleset: String,
    /// `E23.5`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The document's title and number.
    pub document_title: String,
    pub number: Option<String>,
    /// The clause as `huiqi ir --clause E23.5` shows it: title, kind, quote, window,
    /// conditions, amount, limits.
    #[schema(value_type = Object)]
    pub ir: &'a crate::ir::view::ClauseView,
    /// The readings the analysts wrote in comments inside the clause, in order.
    #[schema(value_type = Vec<String>)]
    pub readings: &'a [String],
}

/// The documents of the rule set in service.
#[utoipa::path(get, path = "/v1/policies", responses((status = 200, body = PoliciesBody)))]
pub async fn policies(Extension(rules): Extension<Arc<RuleSet>>) -> Response {
    let documents = rules
        .view
        .documents
        .iter()
        .map(|d| DocumentSummary {
            policy: d.policy.clone(),
            title: d.title.clone(),
            number: d.number.clone(),
            issuer: d.issuer.clone(),
            issued: d.issued.clone(),
            in_force: d.in_force.clone(),
            clauses: d.clauses.clone(),
        })
        .collect();
    json_response(StatusCode::OK, &PoliciesBody { ruleset: rules.version.clone(), documents })
}

/// One document with its clauses.
#[utoipa::path(
    get,
    path = "/v1/policies/{doc}",
    params(("doc" = String, Path, description = "the document key, e.g. `E23`")),
    responses((status = 200, body = PolicyBody), (status = 404, body = ErrorBody))
)]
pub async fn policy(
    Extension(rules): Extension<Arc<RuleSet>>,
    Path(doc): Path<String>,
) -> Result<Response, ApiError> {
    let Some(d) = rules.view.documents.iter().find(|d| d.policy == doc) else {
        return Err(unknown_document(&rules, &doc));
    };
    let clauses = rules
        .view
        .clauses
        .iter()
        .filter(|c| c.policy == doc)
        .map(|c| ClauseSummary {
            reference: format!("{}.{}", c.policy, c.clause),
            clause: c.clause.clone(),
            title: c.title.clone(),
            kind: c.kind,
            quote: c.quote.clone(),
            window: c.window.as_ref().map(|w| crate::ir::view::WindowView {
                from: w.from.clone(),
                to: w.to.clone(),
                tests: w.tests.clone(),
            }),
        })
        .collect();
    Ok(json_response(StatusCode::OK, &PolicyBody { ruleset: rules.version.clone(), document: d, clauses }))
}

fn unknown_document(rules: &RuleSet, doc: &str) -> ApiError {
    let keys: Vec<&str> = rules.view.documents.iter().map(|d| d.policy.as_str()).collect();
    let help = crate::diag::did_you_mean(doc, keys.iter().copied())
        .unwrap_or_else(|| format!("the documents are: {}", keys.join(", ")));
    ApiError::not_found(format!("no document `{doc}`"), help)
}

/// One clause: its text, IR view and readings.
#[utoipa::path(
    get,
    path = "/v1/clauses/{ref}",
    params(("ref" = String, Path, description = "the clause as `DOC.CLAUSE`, e.g. `E23.5`")),
    responses((status = 200, body = ClauseBody), (status = 404, body = ErrorBody))
)]
pub async fn clause(
    Extension(rules): Extension<Arc<RuleSet>>,
    Path(reference): Path<String>,
) -> Result<Response, ApiError> {
    let Some((doc, id)) = reference.split_once('.') else {
        return Err(ApiError::not_found(
            format!("`{reference}` does not name a clause"),
            "name a clause as `DOC.CLAUSE`, e.g. `/v1/clauses/E23.5`",
        ));
    };
    let prog = &rules.compiled.program;
    let Some(cid) = prog.find_clause(doc, id) else {
        if !rules.view.documents.iter().any(|d| d.policy == doc) {
            return Err(unknown_document(&rules, doc));
        }
        let ids: Vec<String> =
            rules.view.clauses.iter().filter(|c| c.policy == doc).map(|c| c.clause.clone()).collect();
        return Err(ApiError::not_found(
            format!("no clause `{id}` in `{doc}`"),
            format!("the clauses of `{doc}` are: {}", ids.join(", ")),
        ));
    };
    let (Some(ir), Some(readings)) = (rules.view.clauses.get(cid as usize), rules.readings.get(cid as usize))
    else {
        return Err(ApiError::not_found(format!("no clause `{reference}`"), ""));
    };
    let d = rules.view.documents.iter().find(|d| d.policy == doc);
    Ok(json_response(
        StatusCode::OK,
        &ClauseBody {
            ruleset: rules.version.clone(),
            reference: format!("{doc}.{id}"),
            document_title: d.map(|d| d.title.clone()).unwrap_or_default(),
            number: d.and_then(|d| d.number.clone()),
            ir,
            readings,
        },
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the service answers.
    pub status: &'static str,
    pub ruleset: String,
    pub documents: usize,
    pub clauses: usize,
}

/// Liveness and the rule set in service.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
pub async fn healthz(Extension(rules): Extension<Arc<RuleSet>>) -> Response {
    let p = &rules.compiled.program;
    json_response(
        StatusCode::OK,
        &Health {
            status: "ok",
            ruleset: rules.version.clone(),
            documents: p.policies.len(),
            clauses: p.clauses.len(),
        },
    )
}

/// Prometheus text: requests, latencies, evaluations per clause, the rule-set version.
#[utoipa::path(get, path = "/metrics", responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(st): State<Arc<AppState>>, Extension(rules): Extension<Arc<RuleSet>>) -> Response {
    let text = st.metrics.render(&rules.version, rules.files);
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    r
}

#[derive(Serialize, ToSchema)]
pub struct Reloaded {
    /// The rule set now in service.
    pub ruleset: String,
    /// The one it replaced.
    pub previous: String,
    pub documents: usize,
    pub clauses: usize,
    /// Lint warnings of the new rule set (they do not prevent the reload).
    pub warnings: usize,
}

/// Recompile the rule files and swap them in (admin token required).
#[utoipa::path(
    post,
    path = "/v1/admin/reload",
    responses(
        (status = 200, body = Reloaded),
        (status = 401, description = "missing or wrong admin token", body = ErrorBody),
        (status = 404, description = "admin endpoints are disabled (no `--admin-token-file`)", body = ErrorBody),
        (status = 422, description = "the rule files do not compile; the old rule set keeps serving", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reload(State(st): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let r = st.reload().await.map_err(ApiError::refused)?;
    Ok(json_response(StatusCode::OK, &r))
}

/// The OpenAPI document of this service.
#[utoipa::path(get, path = "/v1/openapi.json", responses((status = 200, body = Object)))]
pub async fn openapi() -> Response {
    json_response(StatusCode::OK, &ApiDoc::openapi())
}

/// Any other path.
pub async fn fallback() -> ApiError {
    ApiError::not_found(
        "no such endpoint",
        "the endpoints are listed in /v1/openapi.json (POST /v1/evaluate, POST /v1/evaluate/batch, GET /v1/policies …)",
    )
}

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let comps = doc.components.get_or_insert_with(Default::default);
        comps.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "huiqi", description = "惠企 huiqi: evaluate enterprises against checked enterprise-support policy rules"),
    paths(
        evaluate_one,
        super::batch::evaluate_batch,
        policies,
        policy,
        clause,
        healthz,
        metrics,
        reload,
        openapi
    ),
    components(schemas(
        ErrorBody,
        ErrorItem,
        ServedReport,
        EvalReport,
        crate::report::ResultJson,
        crate::report::StepJson,
        crate::eval::relations::Version,
        crate::report::ClauseErrorJson,
        crate::eval::LedgerEntry,
        crate::eval::Status,
        crate::batch::BatchRow,
        crate::batch::RowResult,
        crate::batch::RowError,
        super::batch::SummaryLine,
        super::batch::ErrorLine,
        Refused,
    )),
    modifiers(&Security)
)]
pub struct ApiDoc;

/// The `x-huiqi-ruleset` header value of a rule set.
pub fn ruleset_header(rules: &RuleSet) -> Option<(axum::http::HeaderName, HeaderValue)> {
    HeaderValue::from_str(&rules.version)
        .ok()
        .map(|v| (axum::http::HeaderName::from_static(RULESET_HEADER), v))
}
