// Guess what a file URL holds, so outputs get the right player or viewer.

const EXTENSIONS = {
  image: ["png", "jpg", "jpeg", "webp", "gif", "bmp", "svg", "avif", "tif", "tiff", "ico"],
  video: ["mp4", "webm", "mov", "m4v", "ogv", "mkv"],
  audio: ["wav", "mp3", "ogg", "oga", "flac", "m4a", "aac", "opus", "weba"],
  text: ["txt", "md", "csv", "log", "srt", "vtt"],
  json: ["json"],
};

export function extensionOf(url) {
  try {
    const path = new URL(url, location.href).pathname;
    const last = path.split("/").pop() || "";
    const dot = last.lastIndexOf(".");
    return dot > 0 ? last.slice(dot + 1).toLowerCase() : "";
  } catch {
    return "";
  }
}

/** "image" | "video" | "audio" | "text" | "json" | "file" from a URL or a MIME type. */
export function mediaKind(url, contentType) {
  if (typeof url === "string" && url.startsWith("data:")) {
    contentType = url.slice(5, url.indexOf(";") > 0 ? url.indexOf(";") : url.indexOf(","));
  }
  if (contentType) {
    const type = contentType.split(";")[0].trim().toLowerCase();
    for (const kind of ["image", "video", "audio"]) if (type.startsWith(`${kind}/`)) return kind;
    if (type === "application/json") return "json";
    if (type.startsWith("text/")) return "text";
  }
  const ext = extensionOf(url);
  for (const [kind, list] of Object.entries(EXTENSIONS)) if (list.includes(ext)) return kind;
  return "file";
}

export function isFileUrl(value) {
  return typeof value === "string" && /^(https?:\/\/|data:)/i.test(value) && !/\s/.test(value);
}

const cache = new Map();

/**
 * When a URL has no telling extension, ask the server for its content type
 * (file outputs are served without auth, so a plain HEAD works).
 */
export async function probeKind(url) {
  const guess = mediaKind(url);
  if (guess !== "file" || url.startsWith("data:")) return guess;
  if (!cache.has(url)) {
    cache.set(
      url,
      fetch(url, { method: "HEAD" })
        .then((r) => mediaKind(url, r.headers.get("content-type")))
        .catch(() => "file"),
    );
  }
  return cache.get(url);
}
