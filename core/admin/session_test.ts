import { assert, assertEquals } from "../../tests/support/assert.ts";
import { cookieDropped, createSessions, readCookie, sessionCookie } from "./session.ts";

const SECRET = "session-test-secret-0123456789";

Deno.test("createSessions() issues a fresh id at every login and verifies its own cookies", async () => {
  const clock = { now: 1_000_000 };
  const sessions = await createSessions({
    secret: SECRET,
    password: "pw-12345678",
    now: () => clock.now,
  });
  const a = await sessions.issue();
  const b = await sessions.issue();
  assert(a.session.id !== b.session.id);
  assertEquals((await sessions.read(a.cookie))?.id, a.session.id);
  assertEquals((await sessions.read(a.cookie))?.csrf, a.session.csrf);
  assert(a.session.csrf !== b.session.csrf, "each session has its own CSRF token");
});

Deno.test("sessions.read() refuses forged, expired, revoked and foreign cookies", async () => {
  const clock = { now: 1_000_000 };
  const sessions = await createSessions({
    secret: SECRET,
    password: "pw-12345678",
    now: () => clock.now,
    ttlMs: 60_000,
  });
  const { cookie, session } = await sessions.issue();
  const [id, expiry, signature] = cookie.split(".") as [string, string, string];
  assertEquals(
    await sessions.read(`${id}.${(parseInt(expiry, 36) + 1e9).toString(36)}.${signature}`),
    null,
  );
  // Another first character, whatever the random id starts with.
  const forgedId = `${id[0] === "x" ? "y" : "x"}${id.slice(1)}`;
  assertEquals(await sessions.read(`${forgedId}.${expiry}.${signature}`), null);
  assertEquals(await sessions.read(undefined), null);
  assertEquals(await sessions.read("garbage"), null);
  const other = await createSessions({
    secret: SECRET,
    password: "another-password",
    now: () => clock.now,
  });
  assertEquals(await other.read(cookie), null, "a new password ends every session");
  clock.now += 60_000;
  assertEquals(await sessions.read(cookie), null, "expired");
  clock.now -= 1;
  assert(await sessions.read(cookie));
  sessions.revoke(session);
  assertEquals(await sessions.read(cookie), null, "revoked");
});

Deno.test("sessions.read() accepts one spelling of a signature: every other last character is refused", async () => {
  const sessions = await createSessions({
    secret: SECRET,
    password: "pw-12345678",
    now: () => 1_000_000,
  });
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // Many cookies, so that last characters whose unused low bits could be flipped all occur.
  for (let n = 0; n < 20; n++) {
    const { cookie } = await sessions.issue();
    const head = cookie.slice(0, -1);
    let accepted = 0;
    for (const c of alphabet) if (await sessions.read(head + c)) accepted++;
    assertEquals(accepted, 1, `exactly one last character is valid for ${cookie}`);
  }
});

Deno.test("sessions.checkCsrf() accepts only the session's own token", async () => {
  const sessions = await createSessions({ secret: SECRET, password: "pw-12345678", now: Date.now });
  const { session } = await sessions.issue();
  assert(sessions.checkCsrf(session, session.csrf));
  assert(!sessions.checkCsrf(session, session.csrf.slice(0, -1)));
  assert(!sessions.checkCsrf(session, `${session.csrf}x`));
  assert(!sessions.checkCsrf(session, ""));
  assert(!sessions.checkCsrf(session, null));
});

Deno.test("sessionCookie() is HttpOnly and SameSite=Strict, and Secure unless on localhost", () => {
  const auto = (maxAgeSeconds: number) => ({ maxAgeSeconds, secure: "auto" as const });
  const local = sessionCookie("v", new Request("http://127.0.0.1:8000/admin/login"), auto(43_200));
  assertEquals(local, "gp_admin=v; Path=/admin; Max-Age=43200; HttpOnly; SameSite=Strict");
  const localhost = sessionCookie("v", new Request("http://localhost/admin/login"), auto(1));
  assert(!localhost.includes("Secure"));
  const remote = sessionCookie("v", new Request("https://proxy.example.com/admin/login"), auto(1));
  assert(remote.endsWith("; Secure"), remote);
  const lan = sessionCookie("v", new Request("http://192.168.1.20:8000/admin/login"), auto(1));
  assert(lan.endsWith("; Secure"), "auto never drops Secure on its own for another host");
  const cleared = sessionCookie("", new Request("https://proxy.example.com/admin/logout"), auto(0));
  assert(cleared.includes("Max-Age=0"));
});

Deno.test("sessionCookie() follows COOKIE_SECURE=always and =never", () => {
  const lan = new Request("http://192.168.1.20:8000/admin/login");
  const local = new Request("http://localhost:8000/admin/login");
  const cookie = (request: Request, secure: "always" | "never") =>
    sessionCookie("v", request, { maxAgeSeconds: 1, secure });
  assert(!cookie(lan, "never").includes("Secure"));
  assert(cookie(lan, "always").endsWith("; Secure"));
  assert(cookie(local, "always").endsWith("; Secure"));
  assert(!cookie(new Request("https://proxy.example.com/admin"), "never").includes("Secure"));
});

Deno.test("cookieDropped() is true for a Secure cookie over plain HTTP to another host only", () => {
  const lan = new Request("http://lan.test:8000/admin/login");
  assertEquals(cookieDropped(lan, "auto"), true);
  assertEquals(cookieDropped(lan, "always"), true);
  assertEquals(cookieDropped(lan, "never"), false, "not Secure: the browser keeps it");
  for (const url of ["http://localhost:8000/", "http://127.0.0.1/", "http://[::1]:8000/"]) {
    assertEquals(cookieDropped(new Request(url), "auto"), false, url);
    assertEquals(cookieDropped(new Request(url), "always"), false, url);
  }
  assertEquals(cookieDropped(new Request("https://lan.test/admin"), "auto"), false);
  const proxied = (headers: Record<string, string>) =>
    cookieDropped(new Request("http://proxy.example.com/admin/login", { headers }), "auto");
  assertEquals(proxied({ "x-forwarded-proto": "https" }), false, "TLS ends at a proxy in front");
  assertEquals(proxied({ forwarded: "for=192.0.2.60;proto=https;by=203.0.113.43" }), false);
  assertEquals(proxied({ "x-forwarded-proto": "http" }), true);
});

Deno.test("readCookie() finds one cookie among several", () => {
  const request = new Request("http://x/", { headers: { cookie: "a=1; gp_admin=abc.def; b=2" } });
  assertEquals(readCookie(request, "gp_admin"), "abc.def");
  assertEquals(readCookie(request, "missing"), undefined);
});
