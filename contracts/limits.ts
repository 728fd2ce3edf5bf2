/** Limits the API enforces. Each is configurable per deployment (component args / env); these are the defaults. */
export interface Limits {
  /** Most images in one job. */
  maxImages: number;
  /** Largest accepted image upload, in bytes. */
  maxImageBytes: number;
  /** How long upload grants stay valid, in seconds. */
  grantTtlSeconds: number;
  /** Largest decoded image, in pixels (width x height): bigger inputs are refused as decompression bombs. */
  maxImagePixels: number;
  /** Longest video one job may ask for, in seconds: keeps a render inside the function timeout. */
  maxVideoSeconds: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxImages: 200,
  maxImageBytes: 25 * 1024 * 1024,
  grantTtlSeconds: 900,
  maxImagePixels: 100_000_000,
  maxVideoSeconds: 900,
});

/** Accepted upload content types (the browser's `File.type`). */
export const ACCEPTED_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type AcceptedImageType = (typeof ACCEPTED_IMAGE_TYPES)[number];

export function isAcceptedImageType(type: unknown): type is AcceptedImageType {
  return (ACCEPTED_IMAGE_TYPES as readonly unknown[]).includes(type);
}
