// apache-md5 ships no types: the one function it exports.
declare module 'apache-md5' {
  /** Apache's `$apr1$` MD5-crypt of `password`; with `salt` (a full `$apr1$salt$hash`), re-hash with that salt. */
  function md5(password: string, salt?: string): string;
  export default md5;
}
