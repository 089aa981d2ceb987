/**
 * Unknown console paths.
 * @module
 */
import { PageTitle } from "./_components/page_title.tsx";

/** The not-found page. */
export default function NotFoundPage() {
  return (
    <>
      <PageTitle title="Not found" />
      <div class="card">
        <h1>Not found</h1>
        <p>
          This console page does not exist. Back to the <a href="/admin">dashboard</a>.
        </p>
      </div>
    </>
  );
}
