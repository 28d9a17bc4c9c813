export const CRID_VERSION = '0.1.0';
export const CRI_API_VERSION = 'v1';
