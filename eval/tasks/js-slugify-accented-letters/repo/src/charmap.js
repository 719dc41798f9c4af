/** Characters replaced by words or letters before a title is reduced to a-z and 0-9. */
export const CHARMAP = {
  "&": " and ",
  "@": " at ",
  "%": " percent ",
  "+": " plus ",
};
