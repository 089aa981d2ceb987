/**
 * Shown on every console path while `ADMIN_PASSWORD` is not set: how to set it, and nothing else.
 * @module
 */
import { Head } from "../../../core/web/islands.ts";

/** The setup page. */
export default function SetupPage() {
  return (
    <>
      <Head>
        <title>Set an admin password · Gemini Proxy</title>
      </Head>
      <div class="card">
        <h1>Admin console is closed</h1>
        <p>
          Set <code>ADMIN_PASSWORD</code>{" "}
          (at least 8 characters) in the proxy's environment and restart it to open the console.
          Nothing is shown until then.
        </p>
        <pre class="body">ADMIN_PASSWORD="choose-a-long-password" deno task start</pre>
        <p class="muted small">
          On Deno Deploy, Supabase or Cloudflare, set it as a secret of the deployment. Scripts can
          then also use the admin API with <code>Authorization: Bearer $ADMIN_PASSWORD</code>.
        </p>
      </div>
    </>
  );
}
