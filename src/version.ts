/**
 * The frostkv version string (a test keeps it equal to package.json's version) and the
 * protocol identifiers the servers report.
 */
export const kVersion = '0.1.0';
