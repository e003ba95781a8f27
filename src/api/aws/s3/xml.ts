/**
 * The little XML S3 needs: a serializer for responses (elements and escaped text only) and a
 * parser for the three request bodies it reads (CompleteMultipartUpload, Delete,
 * CreateBucketConfiguration). The parser takes elements, text, character references, CDATA,
 * comments and the XML declaration; it refuses a DOCTYPE, so no entity can expand.
 */

export const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

/** An element's content: text, or child elements in order. `undefined` children are left out. */
export type XmlContent = string | number | boolean | Date | XmlChild[];
export type XmlChild = [name: string, content: XmlContent] | undefined;

/** Escapes text for element content. Line breaks are written as references so that they survive. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r\n\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => {
    switch (c) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      case '"':
        return "&quot;";
      case "'":
        return "&apos;";
      default:
        // XML 1.0 has no place for other control characters; S3 writes them as references too
        // (clients that may meet them ask for encoding-type=url).
        return `&#${c.charCodeAt(0)};`;
    }
  });
}

function contentText(content: Exclude<XmlContent, XmlChild[]>): string {
  if (content instanceof Date) return content.toISOString();
  return escapeXml(String(content));
}

function element(name: string, content: XmlContent): string {
  if (Array.isArray(content)) {
    return `<${name}>${content.map((child) => (child ? element(child[0], child[1]) : "")).join("")}</${name}>`;
  }
  return `<${name}>${contentText(content)}</${name}>`;
}

/** A whole document: the declaration, then `root` (with S3's namespace unless told otherwise). */
export function xmlDocument(
  root: string,
  children: XmlChild[],
  namespace: string | null = S3_NAMESPACE,
): string {
  const body = element(root, children);
  const withNamespace =
    namespace === null ? body : body.replace(`<${root}>`, `<${root} xmlns="${namespace}">`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${withNamespace}`;
}

// --- parsing -------------------------------------------------------------------------------

export interface XmlElement {
  /** The local name (a namespace prefix is dropped). */
  name: string;
  children: XmlElement[];
  /** The text directly inside this element (between its children), references resolved. */
  text: string;
}

export class XmlSyntaxError extends Error {
  constructor(message: string, offset: number) {
    super(`${message} (at character ${offset})`);
    this.name = "XmlSyntaxError";
  }
}

const namePattern = /[A-Za-z_:][A-Za-z0-9_.:-]*/y;

/** Parses a document with one root element. Throws XmlSyntaxError on anything malformed. */
export function parseXml(source: string): XmlElement {
  let at = 0;
  const fail = (message: string): never => {
    throw new XmlSyntaxError(message, at);
  };
  const skipSpace = () => {
    while (at < source.length && /\s/.test(source[at]!)) at++;
  };
  const skipMisc = () => {
    for (;;) {
      skipSpace();
      if (source.startsWith("<?", at)) {
        const end = source.indexOf("?>", at + 2);
        if (end < 0) fail("unterminated processing instruction");
        at = end + 2;
      } else if (source.startsWith("<!--", at)) {
        const end = source.indexOf("-->", at + 4);
        if (end < 0) fail("unterminated comment");
        at = end + 3;
      } else if (source.startsWith("<!DOCTYPE", at)) {
        fail("a DOCTYPE is not accepted");
      } else {
        return;
      }
    }
  };
  const readName = (): string => {
    namePattern.lastIndex = at;
    const match = namePattern.exec(source);
    if (!match) fail("expected a name");
    at += match![0].length;
    return match![0];
  };
  const localName = (qualified: string) => qualified.slice(qualified.indexOf(":") + 1);

  const readElement = (depth: number): XmlElement => {
    if (depth > 32) fail("elements nest too deeply");
    if (source[at] !== "<") fail("expected an element");
    at++;
    const qualified = readName();
    // Attributes (xmlns and the like) are read past: none of the bodies S3 reads needs one.
    for (;;) {
      skipSpace();
      if (source.startsWith("/>", at)) {
        at += 2;
        return { name: localName(qualified), children: [], text: "" };
      }
      if (source[at] === ">") {
        at++;
        break;
      }
      readName();
      skipSpace();
      if (source[at] !== "=") fail("expected = after an attribute name");
      at++;
      skipSpace();
      const quote = source[at];
      if (quote !== '"' && quote !== "'") fail("expected a quoted attribute value");
      const end = source.indexOf(quote!, at + 1);
      if (end < 0) fail("unterminated attribute value");
      decodeText(source.slice(at + 1, end), at);
      at = end + 1;
    }
    const node: XmlElement = { name: localName(qualified), children: [], text: "" };
    for (;;) {
      if (at >= source.length) fail(`element <${qualified}> is not closed`);
      if (source.startsWith("</", at)) {
        at += 2;
        const closing = readName();
        if (closing !== qualified) fail(`</${closing}> closes <${qualified}>`);
        skipSpace();
        if (source[at] !== ">") fail("expected > to end a closing tag");
        at++;
        return node;
      }
      if (source.startsWith("<![CDATA[", at)) {
        const end = source.indexOf("]]>", at + 9);
        if (end < 0) fail("unterminated CDATA section");
        node.text += source.slice(at + 9, end);
        at = end + 3;
      } else if (source.startsWith("<!--", at)) {
        const end = source.indexOf("-->", at + 4);
        if (end < 0) fail("unterminated comment");
        at = end + 3;
      } else if (source.startsWith("<?", at)) {
        const end = source.indexOf("?>", at + 2);
        if (end < 0) fail("unterminated processing instruction");
        at = end + 2;
      } else if (source[at] === "<") {
        node.children.push(readElement(depth + 1));
      } else {
        const end = source.indexOf("<", at);
        const stop = end < 0 ? source.length : end;
        node.text += decodeText(source.slice(at, stop), at);
        at = stop;
      }
    }
  };

  skipMisc();
  const root = readElement(0);
  skipMisc();
  if (at < source.length) fail("content after the root element");
  return root;
}

const namedReferences: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeText(raw: string, offset: number): string {
  if (raw.includes("<")) throw new XmlSyntaxError("< in text", offset);
  return raw.replace(/&([^;]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(";")) throw new XmlSyntaxError("an & that starts no reference", offset);
    const named = namedReferences[name];
    if (named !== undefined) return named;
    const code = name.startsWith("#x")
      ? Number.parseInt(name.slice(2), 16)
      : name.startsWith("#")
        ? Number.parseInt(name.slice(1), 10)
        : Number.NaN;
    if (!Number.isInteger(code) || code < 0 || code > 0x10ffff)
      throw new XmlSyntaxError(`unknown reference &${name};`, offset);
    return String.fromCodePoint(code);
  });
}

/** The children of `node` named `name`. */
export function childrenNamed(node: XmlElement, name: string): XmlElement[] {
  return node.children.filter((child) => child.name === name);
}

/** The text of the only child named `name`, or undefined if there is none. */
export function childText(node: XmlElement, name: string): string | undefined {
  return node.children.find((child) => child.name === name)?.text;
}
