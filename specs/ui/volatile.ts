/** Text that differs from run to run on the UIs' pages (dates and times), masked in screenshots. */
export const DATES: RegExp[] = [
  /\b\d{1,2}\/\d{1,2}\/\d{4},? \d{1,2}:\d{2}(:\d{2})?( [AP]M)?/, // MLflow's lists: 12/05/2026, 04:44:53 AM
  /\b\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?\b/, // ISO days and times
  /\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{1,2}, \d{4}/, // "Dec 5, 2027"
  /\b\d+ (seconds?|minutes?|hours?|days?) ago\b/,
];
