/**
 * Bucket and key rules shared by every lake implementation, so a workflow that runs against the
 * local folder is refused the same names S3 would refuse (and a few more that could escape a folder).
 */
import { validationError } from "../errors.js";

export const maxKeyBytes = 1024;

const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ipAddressPattern = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** S3's general-purpose bucket naming rules. */
export function checkBucketName(bucket: unknown): string {
  if (typeof bucket !== "string") throw validationError("the bucket name must be a string", { bucket });
  const refuse = (why: string) =>
    validationError(`invalid bucket name ${JSON.stringify(bucket)}: ${why}`, { bucket });
  if (bucket.length < 3 || bucket.length > 63) throw refuse("it must be 3 to 63 characters long");
  if (!bucketPattern.test(bucket)) {
    throw refuse(
      "use lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit",
    );
  }
  if (bucket.includes("..")) throw refuse("it must not contain two adjacent dots");
  if (ipAddressPattern.test(bucket)) throw refuse("it must not look like an IP address");
  if (bucket.startsWith("xn--") || bucket.startsWith("sthree-"))
    throw refuse("it must not start with xn-- or sthree-");
  if (bucket.endsWith("-s3alias") || bucket.endsWith("--ol-s3"))
    throw refuse("it must not end with -s3alias or --ol-s3");
  return bucket;
}

/** Keys that are empty, too long, absolute, or that could walk out of a folder are refused. */
export function checkKey(key: unknown): string {
  if (typeof key !== "string") throw validationError("the object key must be a string", { key });
  const refuse = (why: string) =>
    validationError(`invalid object key ${JSON.stringify(key)}: ${why}`, { key });
  if (key.length === 0) throw refuse("it is empty");
  if (Buffer.byteLength(key, "utf8") > maxKeyBytes) throw refuse(`it is longer than ${maxKeyBytes} bytes`);
  if (key.startsWith("/")) throw refuse("it starts with /");
  if (key.includes("\0")) throw refuse("it contains a NUL character");
  if (key.includes("\\")) throw refuse("it contains a backslash");
  if (key.split("/").includes("..")) throw refuse("it contains a .. segment");
  return key;
}
