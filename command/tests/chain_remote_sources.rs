//! The sources that talk to a server, each against a small loopback server
//! of the test's own (the full fault matrix against moto and our Python
//! servers lives in tests/remote/). Each asserts the source name, the keys,
//! the token and the expiry, and what reached the server.

mod common;

use common::{assert_credentials, iso_in, path_str, sts_credentials_xml, LoopbackServer, Response, Scenario};

fn sts_server() -> LoopbackServer {
    LoopbackServer::start(|request| {
        let action = request.form("Action").unwrap_or_default();
        let key = match action.as_str() {
            "AssumeRole" => format!("ASIAROLE{}", request.form("RoleArn").unwrap_or_default().len()),
            _ => "ASIAWEBID".to_owned(),
        };
        Response::ok(sts_credentials_xml(&action, &key, "sts-secret", "sts-token", &iso_in(3600)))
            .header("Content-Type", "text/xml")
    })
}

#[test]
fn assume_role_with_source_profile_sends_external_id_and_session_name() {
    let sts = sts_server();
    let mut s = Scenario::new();
    s.credentials("[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
    s.config(
        "[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\n\
         external_id = ext-42\nrole_session_name = driver-session\nregion = us-east-1\n",
    );
    s.env("AWS_ENDPOINT_URL_STS", &sts.url());
    let answer = s.get(Some("app"));
    let expected_key = format!("ASIAROLE{}", "arn:aws:iam::123456789012:role/app".len());
    assert_credentials(&answer, "assume-role", &expected_key, "sts-secret", Some("sts-token"));
    assert!(common::expiration_unix(&answer) > common::unix_in(3500));
    let calls = sts.seen();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].form("ExternalId").as_deref(), Some("ext-42"));
    assert_eq!(calls[0].form("RoleSessionName").as_deref(), Some("driver-session"));
    assert!(calls[0].headers["authorization"].contains("Credential=AKIDBASE/"), "signed with the source profile");
}

#[test]
fn assume_role_with_credential_source_environment_beats_static_keys() {
    let sts = sts_server();
    let mut s = Scenario::new();
    s.credentials("[default]\naws_access_key_id = AKIDSTATIC\naws_secret_access_key = x\n");
    s.config("[default]\nrole_arn = arn:aws:iam::123456789012:role/r\ncredential_source = Environment\n");
    s.env("AWS_ENDPOINT_URL_STS", &sts.url()).env("AWS_REGION", "us-west-2");
    s.env("AWS_ACCESS_KEY_ID", "AKIDENVSOURCE").env("AWS_SECRET_ACCESS_KEY", "e");
    // env answers first for the ambient profile; a named profile skips env
    // and reaches assume-role, whose credential_source is the environment.
    let answer = s.get(Some("default"));
    assert_eq!(answer["source"], "assume-role", "{answer}");
    assert!(sts.seen()[0].headers["authorization"].contains("Credential=AKIDENVSOURCE/"));
}

#[test]
fn web_identity_from_the_environment_beats_the_credentials_file() {
    let sts = sts_server();
    let mut s = Scenario::new();
    s.credentials("[default]\naws_access_key_id = AKIDSTATIC\naws_secret_access_key = x\n");
    let token = s.file("k8s/token", "header.payload.signature");
    s.env("AWS_WEB_IDENTITY_TOKEN_FILE", &path_str(&token));
    s.env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa").env("AWS_ROLE_SESSION_NAME", "pod-1");
    s.env("AWS_ENDPOINT_URL_STS", &sts.url()).env("AWS_REGION", "eu-west-1");
    let answer = s.get(None);
    assert_credentials(&answer, "assume-role-with-web-identity", "ASIAWEBID", "sts-secret", Some("sts-token"));
    let call = &sts.seen()[0];
    assert_eq!(call.form("WebIdentityToken").as_deref(), Some("header.payload.signature"));
    assert_eq!(call.form("RoleSessionName").as_deref(), Some("pod-1"));
    assert_eq!(call.form("RoleArn").as_deref(), Some("arn:aws:iam::123456789012:role/irsa"));
}

#[test]
fn web_identity_from_a_profile() {
    let sts = sts_server();
    let mut s = Scenario::new();
    let token = s.file("token", "jwt-from-profile");
    s.config(&format!(
        "[profile eks]\nweb_identity_token_file = {}\nrole_arn = arn:aws:iam::123456789012:role/p\nregion = us-east-2\n",
        token.display()
    ));
    s.env("AWS_ENDPOINT_URL_STS", &sts.url());
    let answer = s.get(Some("eks"));
    assert_credentials(&answer, "assume-role-with-web-identity", "ASIAWEBID", "sts-secret", Some("sts-token"));
    assert_eq!(sts.seen()[0].form("WebIdentityToken").as_deref(), Some("jwt-from-profile"));
}

fn sso_server(expected_token: &'static str) -> LoopbackServer {
    LoopbackServer::start(move |request| {
        if request.headers.get("x-amz-sso_bearer_token").map(String::as_str) != Some(expected_token) {
            return Response::status(401, r#"{"message":"Session token not found or invalid"}"#)
                .header("x-amzn-ErrorType", "UnauthorizedException");
        }
        let millis = common::unix_in(3600) * 1000;
        Response::ok(format!(
            r#"{{"roleCredentials":{{"accessKeyId":"ASIASSO","secretAccessKey":"sso-secret","sessionToken":"sso-token","expiration":{millis}}}}}"#
        ))
        .header("Content-Type", "application/json")
    })
}

fn sha1_hex(text: &str) -> String {
    let output = std::process::Command::new("python3")
        .args(["-c", "import hashlib,sys;print(hashlib.sha1(sys.argv[1].encode()).hexdigest())", text])
        .output()
        .unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn sso_with_an_sso_session_section() {
    let portal = sso_server("cached-access-token");
    let mut s = Scenario::new();
    s.config(
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = ReadOnly\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
    );
    s.file(
        &format!(".aws/sso/cache/{}.json", sha1_hex("corp")),
        &format!(
            r#"{{"accessToken":"cached-access-token","expiresAt":"{}","region":"us-east-1","startUrl":"https://corp.awsapps.com/start"}}"#,
            iso_in(7200)
        ),
    );
    s.env("AWS_ENDPOINT_URL_SSO", &portal.url());
    let answer = s.get(Some("dev"));
    assert_credentials(&answer, "sso", "ASIASSO", "sso-secret", Some("sso-token"));
    let call = &portal.seen()[0];
    assert!(call.path.starts_with("/federation/credentials?"), "{}", call.path);
    assert!(call.path.contains("role_name=ReadOnly") && call.path.contains("account_id=123456789012"));
}

#[test]
fn sso_in_the_legacy_form() {
    let portal = sso_server("legacy-token");
    let mut s = Scenario::new();
    let start_url = "https://legacy.awsapps.com/start";
    s.config(&format!(
        "[default]\nsso_start_url = {start_url}\nsso_region = us-east-1\nsso_account_id = 210987654321\nsso_role_name = Admin\n"
    ));
    s.file(
        &format!(".aws/sso/cache/{}.json", sha1_hex(start_url)),
        &format!(
            r#"{{"accessToken":"legacy-token","expiresAt":"{}","region":"us-east-1","startUrl":"{start_url}"}}"#,
            iso_in(7200)
        ),
    );
    s.env("AWS_ENDPOINT_URL_SSO", &portal.url());
    assert_credentials(&s.get(None), "sso", "ASIASSO", "sso-secret", Some("sso-token"));
}

#[test]
fn sso_without_a_cached_token_fails_naming_the_source() {
    let portal = sso_server("whatever");
    let mut s = Scenario::new();
    s.config("[default]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = R\n");
    s.env("AWS_ENDPOINT_URL_SSO", &portal.url());
    let answer = s.get(None);
    assert_eq!(answer["error"]["source"], "sso", "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().starts_with("sso: "), "{answer}");
    assert!(portal.seen().is_empty());
}

/// A `login_session` profile whose token `aws login` cached (valid for an
/// hour), with `refresh_token` as its refresh token field (`None`: the
/// field is missing); the sign-in endpoint is a closed loopback port.
fn login_scenario(refresh_token: Option<&str>) -> Scenario {
    let mut s = Scenario::new();
    let session = "arn:aws:sts::123456789012:assumed-role/dev/me";
    s.config(&format!("[default]\nlogin_session = {session}\nregion = us-east-1\n"));
    let digest = {
        let output = std::process::Command::new("python3")
            .args(["-c", "import hashlib,sys;print(hashlib.sha256(sys.argv[1].encode()).hexdigest())", session])
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let refresh = refresh_token.map(|t| format!(r#""refreshToken":"{t}","#)).unwrap_or_default();
    s.file(
        &format!(".aws/login/cache/{digest}.json"),
        &format!(
            r#"{{"accessToken":{{"accessKeyId":"ASIALOGIN","secretAccessKey":"login-secret","sessionToken":"login-token","accountId":"123456789012","expiresAt":"{}"}},"tokenType":"aws_sigv4",{refresh}"idToken":"i","clientId":"arn:aws:signin:::devtools/same-device","dpopKey":"k"}}"#,
            iso_in(3600)
        ),
    );
    s.env("AWS_ENDPOINT_URL_SIGNIN", "http://127.0.0.1:9");
    s
}

#[test]
fn login_session_with_a_valid_cached_token() {
    let s = login_scenario(Some("r"));
    let answer = s.get(None);
    assert_credentials(&answer, "login", "ASIALOGIN", "login-secret", Some("login-token"));
    assert_eq!(answer["account_id"], "123456789012");
}

/// botocore raises `LoginTokenLoadError` ("missing required fields:
/// refreshToken") for a cache file that lacks a field: a source that failed
/// to load, not invalid configuration.
#[test]
fn login_session_with_a_cached_token_missing_a_field_is_a_source_failure() {
    let s = login_scenario(None);
    let answer = s.get(None);
    assert_eq!(answer["error"]["code"], "source-failed", "{answer}");
    assert_eq!(answer["error"]["source"], "login", "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("refreshToken"), "{answer}");
}

#[test]
fn container_credentials_with_an_authorization_token() {
    let server = LoopbackServer::start(|request| {
        if request.headers.get("authorization").map(String::as_str) != Some("Bearer pod-token") {
            return Response::status(401, "unauthorized");
        }
        Response::ok(format!(
            r#"{{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"c-secret","Token":"c-token","Expiration":"{}","AccountId":"999988887777"}}"#,
            iso_in(3600)
        ))
    });
    let mut s = Scenario::new();
    s.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &format!("{}/v1/credentials", server.url()));
    s.env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer pod-token");
    let answer = s.get(None);
    assert_credentials(&answer, "container-role", "ASIACONTAINER", "c-secret", Some("c-token"));
    assert_eq!(answer["account_id"], "999988887777");
    assert_eq!(server.seen()[0].path, "/v1/credentials");
}

fn imds_server() -> LoopbackServer {
    LoopbackServer::start(|request| match (request.method.as_str(), request.path.as_str()) {
        ("PUT", "/latest/api/token") => {
            Response::ok("imds-session").header("x-aws-ec2-metadata-token-ttl-seconds", "21600")
        }
        ("GET", "/latest/meta-data/iam/security-credentials/") => Response::ok("instance-role"),
        ("GET", "/latest/meta-data/iam/security-credentials/instance-role") => Response::ok(format!(
            r#"{{"Code":"Success","LastUpdated":"{}","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS","SecretAccessKey":"i-secret","Token":"i-token","Expiration":"{}"}}"#,
            iso_in(0),
            iso_in(21600)
        )),
        _ => Response::status(404, "not found"),
    })
}

#[test]
fn instance_metadata_at_a_custom_endpoint() {
    let imds = imds_server();
    let mut s = Scenario::new();
    s.unset("AWS_EC2_METADATA_DISABLED").env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url());
    let answer = s.get(None);
    assert_credentials(&answer, "iam-role", "ASIAIMDS", "i-secret", Some("i-token"));
    assert!(common::expiration_unix(&answer) > common::unix_in(21000));
    let seen = imds.seen();
    assert!(seen
        .iter()
        .skip(1)
        .all(|r| r.headers.get("x-aws-ec2-metadata-token").map(String::as_str) == Some("imds-session")));
}

#[test]
fn instance_metadata_endpoint_from_the_profile() {
    let imds = imds_server();
    let mut s = Scenario::new();
    s.unset("AWS_EC2_METADATA_DISABLED");
    s.config(&format!("[profile ec2]\nec2_metadata_service_endpoint = {}\n", imds.url()));
    assert_credentials(&s.get(Some("ec2")), "iam-role", "ASIAIMDS", "i-secret", Some("i-token"));
}

#[test]
fn container_beats_instance_metadata_and_files_beat_container() {
    let imds = imds_server();
    let container = LoopbackServer::start(|_| {
        Response::ok(format!(
            r#"{{"AccessKeyId":"ASIACONTAINER","SecretAccessKey":"c","Token":"t","Expiration":"{}"}}"#,
            iso_in(3600)
        ))
    });
    let mut s = Scenario::new();
    s.unset("AWS_EC2_METADATA_DISABLED").env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url());
    s.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &container.url());
    assert_eq!(s.get(None)["source"], "container-role");
    s.file(".boto", "[Credentials]\naws_access_key_id = AKIDBOTO\naws_secret_access_key = b\n");
    assert_eq!(s.get(None)["source"], "boto-config");
    assert!(imds.seen().is_empty(), "IMDS is never asked when an earlier source answers");
}

#[test]
fn instance_metadata_that_is_not_there_means_no_credentials() {
    let imds = LoopbackServer::start(|request| match request.path.as_str() {
        "/latest/api/token" => Response::ok("t").header("x-aws-ec2-metadata-token-ttl-seconds", "21600"),
        _ => Response::status(404, "not found"),
    });
    let mut s = Scenario::new();
    s.unset("AWS_EC2_METADATA_DISABLED").env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url());
    let answer = s.get(None);
    assert_eq!(answer["error"]["code"], "no-credentials", "{answer}");
    assert_eq!(answer["error"]["source"], "iam-role", "{answer}");
}
