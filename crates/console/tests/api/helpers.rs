//! A console for one test, users of every role, and an HTTP client that signs in and carries the session and CSRF
//! cookies the way a browser does.

use common::testing::TestEnv;
use console::testing::TestConsole;
use mysql_async::prelude::Queryable;
use reqwest::Method;
use serde_json::{json, Value};
use store::console_db::{apps, members, users};

pub const ADMIN: &str = "root@example.com";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub env: TestEnv,
    pub console: TestConsole,
}

impl TestApp {
    pub async fn start() -> TestApp {
        Self::start_with(&[]).await
    }

    pub async fn start_with(overrides: &[(&str, &str)]) -> TestApp {
        let mut all = vec![("EZM__CONSOLE__ADMIN_USER", ADMIN), ("EZM__CONSOLE__ADMIN_PASSWORD", PASSWORD)];
        all.extend_from_slice(overrides);
        let env = TestEnv::new(&all).await;
        let (manager_port, _) = manager::startup::Application::build(env.settings.clone()).await.expect("manager starts").spawn();
        let mut settings = env.settings.clone();
        settings.console.manager_base_url = format!("http://127.0.0.1:{manager_port}");
        let console = TestConsole::start(settings, &env.id).await;
        TestApp { env, console }
    }

    /// A client without a session.
    pub fn anonymous(&self) -> Client {
        Client { base: self.console.base.clone(), session: None, basic: None }
    }

    /// Signs `name` in through the API.
    pub async fn sign_in(&self, name: &str, password: &str) -> Client {
        let mut client = self.anonymous();
        let (status, body) = client.call(Method::POST, "/xapi/signin", json!({"name": name, "password": password})).await;
        assert_eq!((status, body["ok"].as_bool()), (200, Some(true)), "sign-in of {name}: {body}");
        assert!(client.session.is_some(), "a session cookie is set");
        client
    }

    /// A user with `PASSWORD`, created directly in the database.
    pub async fn user(&self, name: &str) -> users::User {
        let hash = console::domain::password::hash(PASSWORD);
        let nick = name.split('@').next().unwrap();
        let new = users::NewUser { name, nick, pass: &hash, mail: name };
        users::insert(&self.env.console_db(), &new, console::accounts::new_identity).await.unwrap().expect("a new name")
    }

    /// An app owned by `owner` with `member` joined and `invitee` invited.
    pub async fn team_app(&self, name: &str, owner: u64, member: Option<u64>, invitee: Option<u64>) -> u64 {
        let db = self.env.console_db();
        let id = apps::create(&db, name, owner, "0123456789abcdef0123456789abcdef").await.unwrap().unwrap();
        if let Some(m) = member {
            members::invite(&db, id, m).await.unwrap();
            members::accept(&db, id, m).await.unwrap();
        }
        if let Some(i) = invitee {
            members::invite(&db, id, i).await.unwrap();
        }
        id
    }

    /// A `files` row of `app` on agent `vm` in `status`; returns its id.
    pub async fn file(&self, app: u64, kind: &str, status: u8) -> u64 {
        let mut conn = self.env.console_db().get_conn().await.unwrap();
        let path = format!("/logs/x-{kind}-1-20261125-{app}.{kind}");
        conn.exec_drop("INSERT INTO files (app, agent, type, file, user, status) VALUES (?, 'vm', ?, ?, 1, ?)", (app, kind, path, status)).await.unwrap();
        conn.last_insert_id().unwrap()
    }

    pub async fn finish(self) {
        self.console.stop();
        self.env.finish().await;
    }
}

pub struct Client {
    pub base: String,
    pub session: Option<String>,
    pub basic: Option<(String, String)>,
}

/// The CSRF secret these clients echo (the double submit only needs cookie and header to agree).
const CSRF: &str = "test-csrf-token";

impl Client {
    /// A request as the original front-end makes it: GET parameters in the query, others as a JSON body; the CSRF
    /// cookie echoed in `x-csrf-token`. Returns the HTTP status and the JSON body (`Null` if not JSON).
    pub async fn call(&mut self, method: Method, path: &str, params: Value) -> (u16, Value) {
        self.call_with(method, path, params, true).await
    }

    pub async fn call_with(&mut self, method: Method, path: &str, params: Value, csrf: bool) -> (u16, Value) {
        let http = reqwest::Client::new();
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            Method::GET => {
                let query: Vec<(String, String)> = params
                    .as_object()
                    .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))).collect())
                    .unwrap_or_default();
                http.get(url).query(&query)
            }
            m => http.request(m, url).json(&params),
        };
        let mut cookies = vec![format!("csrfToken={CSRF}")];
        if let Some(session) = &self.session {
            cookies.push(format!("ezm_session={session}"));
        }
        request = request.header("cookie", cookies.join("; "));
        if csrf {
            request = request.header("x-csrf-token", CSRF);
        }
        if let Some((name, password)) = &self.basic {
            request = request.basic_auth(name, Some(password));
        }
        let response = request.send().await.expect("the console answers");
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            if let Some(rest) = text.strip_prefix("ezm_session=") {
                let token = rest.split(';').next().unwrap_or_default();
                self.session = Some(token.to_owned()).filter(|t| !t.is_empty());
            }
        }
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    pub async fn get(&mut self, path: &str, params: Value) -> (u16, Value) {
        self.call(Method::GET, path, params).await
    }

    /// A request carrying the session and the CSRF cookie and header, for bodies `call` does not make (multipart)
    /// and answers it does not read (downloads, redirects: they are not followed).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a plain client builds");
        let mut cookies = vec![format!("csrfToken={CSRF}")];
        if let Some(session) = &self.session {
            cookies.push(format!("ezm_session={session}"));
        }
        http.request(method, format!("{}{path}", self.base)).header("cookie", cookies.join("; ")).header("x-csrf-token", CSRF)
    }
}

/// True when the answer refuses the caller (not signed in, or not allowed).
pub fn refused(status: u16, body: &Value) -> bool {
    status == 401 || status == 403 || matches!(body["code"].as_u64(), Some(401) | Some(403))
}
