/** Where Prometheus scrapes; its own requests are not counted in the HTTP metrics. */
export const METRICS_PATH = '/metrics';

/** The label of requests no route matched (404s, scanners): their URLs must not become labels. */
export const UNMATCHED_ROUTE = '(unmatched)';
