//! Signing in and out, and who is signed in. Without a built web UI, `/` and the UI's client routes serve a small
//! server-rendered sign-in form saying how to build the UI (`routes::ui`); `POST /xapi/signin` sets the session cookie (HttpOnly, SameSite=Lax, Secure over https) and
//! `POST /xapi/signout` ends the session in Redis.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use protocol::service::Reply;
use serde::Deserialize;
use serde_json::json;

use crate::accounts;
use crate::auth::{client_address, is_https, CurrentUser};
use crate::clients::sessions::COOKIE;
use crate::error::ConsoleError;
use crate::routes::params::Params;
use crate::state::AppState;

type State = web::Data<AppState>;
type Handled = Result<HttpResponse, ConsoleError>;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SignIn {
    #[serde(alias = "username", alias = "email")]
    name: String,
    password: String,
}

pub async fn sign_in(state: State, req: HttpRequest, Params(body): Params<SignIn>) -> Handled {
    let result = accounts::sign_in(&state, &body.name, &body.password, &client_address(&req)).await;
    state.stats.signin(match &result {
        Ok(_) => "ok",
        Err(ConsoleError::TooManyAttempts(_)) => "limited",
        Err(_) => "refused",
    });
    let user = result?;
    let token = state.sessions.create(user.id, chrono::Utc::now().timestamp_millis()).await?;
    let cookie = Cookie::build(COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(is_https(&req))
        .max_age(actix_web::cookie::time::Duration::seconds(state.sessions.idle_secs() as i64))
        .finish();
    tracing::info!(user_id = user.id, "signed in");
    Ok(HttpResponse::Ok().cookie(cookie).json(Reply::ok(user_json(&user))))
}

pub async fn sign_out(state: State, req: HttpRequest) -> Handled {
    if let Some(token) = req.cookie(COOKIE) {
        state.sessions.destroy(token.value()).await?;
    }
    let mut gone = Cookie::build(COOKIE, "").path("/").http_only(true).same_site(SameSite::Lax).finish();
    gone.make_removal();
    Ok(HttpResponse::Ok().cookie(gone).json(Reply::done()))
}

/// `GET /xapi/user`: the original's `{name: nick, id: identity}`, plus (ours) the account name and the admin flag.
pub async fn current(user: CurrentUser) -> Handled {
    Ok(HttpResponse::Ok().json(Reply::ok(user_json(&user))))
}

fn user_json(user: &CurrentUser) -> serde_json::Value {
    json!({"name": user.nick, "id": user.identity, "userId": user.id, "account": user.name, "admin": user.admin})
}

/// The page `routes::ui::index` serves while the web UI is not built: the sign-in form, or who is signed in.
/// Its links are relative to `console.base_path` (its `<base href>`), like the UI's.
pub async fn page(state: State, req: HttpRequest) -> HttpResponse {
    let user = <CurrentUser as actix_web::FromRequest>::extract(&req).await.ok();
    let hint = match user {
        Some(_) => "",
        None if state.auth.basic_auth => "Scripts may also use HTTP Basic credentials.",
        None => "",
    };
    let body = SIGN_IN_PAGE
        .replace("{{base}}", &html_escape(&state.base_path))
        .replace("{{build}}", &html_escape(crate::routes::ui::HOW_TO_BUILD))
        .replace("{{signed_in}}", &user.map(|u| html_escape(&u.name)).unwrap_or_default())
        .replace("{{hint}}", hint);
    HttpResponse::Ok().content_type("text/html; charset=utf-8").insert_header(("cache-control", "no-store")).body(body)
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

const SIGN_IN_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<base href="{{base}}">
<title>Easy-Monitor · sign in</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;background:#f4f6f9;margin:0;display:grid;place-items:center;min-height:100vh;color:#1f2933}
main{background:#fff;padding:2rem 2.2rem;border-radius:10px;box-shadow:0 2px 14px #0002;width:min(22rem,90vw)}
h1{font-size:1.3rem;margin:0 0 1.2rem}label{display:block;margin:.8rem 0 .3rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.55rem .6rem;border:1px solid #c5ccd6;border-radius:6px;font:inherit}
a{color:#2563eb}button{margin-top:1.3rem;width:100%;padding:.6rem;border:0;border-radius:6px;background:#2563eb;color:#fff;font:inherit;font-weight:600;cursor:pointer}
#error{color:#b42318;min-height:1.4em;margin-top:.8rem}.hint{color:#52606d;font-size:.85rem;margin-top:1rem}
code{font-size:.8rem;background:#eef1f5;padding:.1rem .3rem;border-radius:4px;overflow-wrap:anywhere}
</style></head><body><main>
<h1>Easy-Monitor</h1>
<div id="who" data-user="{{signed_in}}" hidden><p id="who-text"></p>
<button id="out" type="button">Sign out</button></div>
<form id="f"><label for="name">E-mail</label><input id="name" name="name" type="text" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button><div id="error" role="alert"></div></form>
<p class="hint">{{hint}}</p>
<p class="hint" id="no-ui">The web UI is not built into this console. Build it with <code>{{build}}</code>, then
restart the console (a release build embeds it: build the console again). The JSON API is described at
<a href="openapi.json">openapi.json</a>.</p>
<script>
const who=document.getElementById('who'),f=document.getElementById('f');
if(who.dataset.user){document.getElementById('who-text').textContent='Signed in as '+who.dataset.user+'.';who.hidden=false;f.hidden=true;}
const csrf=()=>(document.cookie.split(';').map(c=>c.trim().split('=')).find(c=>c[0]==='csrfToken')||[])[1];
f.addEventListener('submit',async e=>{e.preventDefault();const err=document.getElementById('error');err.textContent='';
try{const r=await fetch('xapi/signin',{method:'POST',headers:{'content-type':'application/json','x-csrf-token':csrf()},
body:JSON.stringify({name:f.name.value,password:f.password.value})});const b=await r.json();
if(b.ok){location.href=document.baseURI;}
else if(r.status===401){err.textContent='Wrong e-mail or password.';}
else if(r.status===429){err.textContent='Too many failed sign-ins: '+b.message+'.';}
else{err.textContent=b.message||('Sign-in failed (HTTP '+r.status+').');}}
catch(x){err.textContent='The console did not answer: '+x.message;}});
document.getElementById('out').addEventListener('click',async()=>{
await fetch('xapi/signout',{method:'POST',headers:{'x-csrf-token':csrf()}});location.href='signin';});
</script></main></body></html>
"#;
