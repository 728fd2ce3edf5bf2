/** Lambda CPU architectures the builds (function bundles, FFmpeg layer) and the component support. */
export type Architecture = 'arm64' | 'x86_64';

/** `--arch`, else MEDIA_PIPELINE_ARCH (so `MEDIA_PIPELINE_ARCH=x86_64 npm run build:deploy` builds everything for x86_64), else arm64. */
export function parseArchitecture(value: string | undefined): Architecture {
  const v = value ?? process.env.MEDIA_PIPELINE_ARCH ?? 'arm64';
  if (v === 'arm64' || v === 'x86_64') return v;
  if (v === 'x64' || v === 'amd64') return 'x86_64';
  throw new Error(`--arch must be arm64 or x86_64, got ${v}`);
}
