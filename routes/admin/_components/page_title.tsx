/**
 * A page's `<title>`, with the product name.
 * @module
 */
import { Head } from "../../../core/web/islands.ts";

/**
 * Sets the document title.
 * @param props The page's own title.
 */
export function PageTitle(props: { title: string }) {
  return (
    <Head>
      <title>{`${props.title} · Gemini Proxy`}</title>
    </Head>
  );
}
