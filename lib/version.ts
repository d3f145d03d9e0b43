// lkvol's version, written into lkvol.json and sent as the User-Agent; kept equal to package.json by a test.
export const version = '0.1.0';
