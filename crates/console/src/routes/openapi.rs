//! The console's OpenAPI document (`GET /openapi.json`, or `console --print-openapi`), built from the route table:
//! every API route (the web UI's pages and files are not the API) with its method,
//! who may call it (as security and a description), and its parameters from the route's own parameter type (in the
//! query for GET, as a JSON body otherwise, as the original front-end sends them). Replies are the original's
//! envelope, `{ok, data}` or `{ok: false, message, code, reason, args}` (one `Envelope` schema).

use utoipa::openapi::path::{HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathItemBuilder};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, Required, ResponseBuilder};
use utoipa::IntoParams;

use super::{Guard, ROUTES};

/// For routes whose only parameters are the ones their guard reads.
pub struct NoParams;

impl IntoParams for NoParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        Vec::new()
    }
}

fn integer(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).build()))
        .build()
}

/// The parameters a guard reads before the route's own.
fn guard_params(guard: Guard) -> Vec<Parameter> {
    match guard {
        Guard::Member | Guard::Owner | Guard::Invitee => vec![integer("appId", "the app (`apps.id`, the agents' appId)")],
        Guard::Strategy => vec![integer("strategyId", "the alarm rule")],
        Guard::File => vec![
            integer("fileId", "the file (`files.id`, or `coredumps.id` for a core)"),
            ParameterBuilder::new()
                .name("fileType")
                .parameter_in(ParameterIn::Query)
                .required(Required::True)
                .description(Some("cpuprofile, heapprofile, gcprofile, heapsnapshot, diag, trend, core or executable"))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        ],
        Guard::Public | Guard::AgentSignature | Guard::User | Guard::Admin => Vec::new(),
    }
}

fn who(guard: Guard) -> &'static str {
    match guard {
        Guard::Public => "anyone",
        Guard::AgentSignature => "agents: the query is signed with the file's one-time token",
        Guard::User => "any signed-in user",
        Guard::Invitee => "a user with a pending invitation to the app",
        Guard::Member => "the app's owner or a joined member (or an administrator)",
        Guard::Owner => "the app's owner (or an administrator)",
        Guard::Strategy => "the owner or a joined member of the rule's app (or an administrator)",
        Guard::File => "a member of the app of every file the request names (or an administrator)",
        Guard::Admin => "a global administrator",
    }
}

fn method(m: &actix_web::http::Method) -> HttpMethod {
    match m.as_str() {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        "HEAD" => HttpMethod::Head,
        _ => HttpMethod::Get,
    }
}

/// The document. Built on every request for `/openapi.json` (it is small; nothing to keep in sync).
pub fn document() -> OpenApi {
    let envelope = ObjectBuilder::new()
        .property("ok", ObjectBuilder::new().schema_type(Type::Boolean))
        .required("ok")
        .property("data", ObjectBuilder::new())
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .property("code", ObjectBuilder::new())
        .property(
            "reason",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("why it was refused: a stable English key the web UI translates (ours)"))
                .enum_values(Some(crate::reasons::ALL.iter().map(|r| r.key))),
        )
        .property("args", ObjectBuilder::new().description(Some("the values of the reason's placeholders (ours)")))
        .build();
    let mut items: Vec<(&str, PathItemBuilder)> = Vec::new();
    for route in ROUTES.iter().filter(|r| r.api) {
        let mut params = guard_params(route.guard);
        let own: Vec<Parameter> = (route.params)().into_iter().filter(|p| !params.iter().any(|g| g.name == p.name)).collect();
        params.extend(own);
        let mut op = OperationBuilder::new()
            .operation_id(Some(route.name.replace("::", "_")))
            .tag(route.name.split("::").next().unwrap_or("console"))
            .description(Some(format!("Who may call it: {}.", who(route.guard))))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("the original's envelope: `{ok: true, data}`, or `{ok: false, message, code, reason, args}` (code 400 for a bad parameter, 403 not allowed, 404 no such thing)")
                    .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("Envelope"))).build()),
            )
            .response("401", ResponseBuilder::new().description("not signed in"));
        op = match route.method == actix_web::http::Method::GET {
            true => op.parameters(Some(params)),
            false if params.is_empty() => op,
            false => {
                let mut body = ObjectBuilder::new();
                for p in params {
                    if matches!(p.required, Required::True) {
                        body = body.required(p.name.clone());
                    }
                    let schema = p.schema.unwrap_or_else(|| Schema::Object(ObjectBuilder::new().build()).into());
                    body = body.property(p.name, schema);
                }
                let content = ContentBuilder::new().schema(Some(body.build())).build();
                op.request_body(Some(RequestBodyBuilder::new().content("application/json", content).required(Some(Required::True)).build()))
            }
        };
        if !matches!(route.guard, Guard::Public | Guard::AgentSignature) {
            op = op.security(SecurityRequirement::new("session", Vec::<String>::new())).security(SecurityRequirement::new("basic", Vec::<String>::new()));
        }
        match items.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, item)) => *item = std::mem::take(item).operation(method(&route.method), op.build()),
            None => items.push((route.path, PathItemBuilder::new().operation(method(&route.method), op.build()))),
        }
    }
    let mut paths = PathsBuilder::new();
    for (path, item) in items {
        paths = paths.path(path, item.build());
    }
    let components = ComponentsBuilder::new()
        .schema("Envelope", envelope)
        .security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("ezm_session"))))
        .security_scheme("basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)))
        .build();
    let info = InfoBuilder::new()
        .title("easy-monitor console")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The console's JSON API, compatible with the original xprofiler console. State-changing requests need the \
             `csrfToken` cookie echoed in the `x-csrf-token` header.",
        ))
        .build();
    OpenApiBuilder::new().info(info).paths(paths.build()).components(Some(components)).build()
}

pub async fn serve() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(document())
}
