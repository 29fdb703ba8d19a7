/* Functions banned in this tree; include last.  Use snprintf and pb_buf instead. */
#ifndef PB_BANNED_H
#define PB_BANNED_H

#define PB_BANNED(func) sorry_##func##_is_banned_in_posbridge

#undef strcpy
#define strcpy(x, y) PB_BANNED(strcpy)
#undef strcat
#define strcat(x, y) PB_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) PB_BANNED(strncpy)
#undef sprintf
#define sprintf(...) PB_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) PB_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) PB_BANNED(strtok)
#undef atoi
#define atoi(x) PB_BANNED(atoi)
#undef gets
#define gets(x) PB_BANNED(gets)

#endif
