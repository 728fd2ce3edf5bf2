/**
 * Object keys: the only place that knows the bucket layout. Every key is chosen by the server
 * from the job id and an index; nothing a user sends ever becomes part of a key.
 *
 * Input bucket                          Output bucket
 *   jobs/<id>/job.json      (API)         videos/<id>/video.mp4   (process-media)
 *   jobs/<id>/images/000    (browser)     videos/<id>/poster.jpg  (process-media)
 *   jobs/<id>/manifest.json (API; the S3 event on it starts process-media)
 *   jobs/<id>/status.json   (process-media)
 *   jobs/<id>/lease.json    (process-media: one render at a time)
 *                                         segments/<id>/<k>.mp4    (fan-out: render-segment; deleted after the join)
 *                                         segments/<id>/poster.jpg (fan-out: segment 0)
 */
export const JOBS_PREFIX = 'jobs/';
export const MANIFEST_SUFFIX = '/manifest.json';
export const VIDEOS_PREFIX = 'videos/';
/** Fan-out segments in the output bucket (private: CloudFront reads only videos/). */
export const SEGMENTS_PREFIX = 'segments/';

export const keys = {
  jobPrefix: (jobId: string) => `${JOBS_PREFIX}${jobId}/`,
  job: (jobId: string) => `${JOBS_PREFIX}${jobId}/job.json`,
  image: (jobId: string, index: number) => `${JOBS_PREFIX}${jobId}/images/${String(index).padStart(3, '0')}`,
  manifest: (jobId: string) => `${JOBS_PREFIX}${jobId}${MANIFEST_SUFFIX}`,
  status: (jobId: string) => `${JOBS_PREFIX}${jobId}/status.json`,
  lease: (jobId: string) => `${JOBS_PREFIX}${jobId}/lease.json`,
  video: (jobId: string) => `${VIDEOS_PREFIX}${jobId}/video.mp4`,
  poster: (jobId: string) => `${VIDEOS_PREFIX}${jobId}/poster.jpg`,
  segment: (jobId: string, index: number) => `${SEGMENTS_PREFIX}${jobId}/${index}.mp4`,
  segmentPoster: (jobId: string) => `${SEGMENTS_PREFIX}${jobId}/poster.jpg`,
} as const;

/** The job id of a manifest key (`jobs/<id>/manifest.json`), or null for any other key. */
export function jobIdFromManifestKey(key: string): string | null {
  const m = /^jobs\/([^/]+)\/manifest\.json$/.exec(key);
  return m ? m[1]! : null;
}
