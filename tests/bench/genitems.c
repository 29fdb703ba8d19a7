/*
 * genitems: write a large, valid qbposXML ItemInventoryQueryRs document for
 * the export benchmark.  The output has the quirks of real QuickBooks POS
 * responses (see samples/qbpos/README.md and reference/qbpos.md section 3.3):
 * encoding="windows-1252" with real CP-1252 bytes, CRLF line ends, no
 * <?qbposxml?> PI, attributes in alphabetical order, item scalars in
 * (case-insensitive) alphabetical order after ListID/TimeCreated/TimeModified,
 * aggregates (AvailableQty with StoreNumber last, UnitOfMeasure1..3,
 * VendorInfo2..5) after the scalars, empty fields left out, True/False, money
 * and quantities with two decimals, ListIDs as signed 64-bit integers.
 * Items come in "styles" of 1-12 items (same DepartmentListID and Desc1) that
 * differ by Attribute and/or Size, across two stores.
 *
 * The output depends only on -n, -s, -c and -f: the same arguments give the
 * same bytes on every machine.  ListIDs, ItemNumbers, ALUs and UPCs are unique.
 *
 * Build: cc -O2 -std=c11 -Wall -Wextra -Werror -o genitems tests/bench/genitems.c
 * Usage: genitems [-n ITEMS] [-s SEED] [-c CHUNKS] [-f] [-o FILE]
 *   -n  number of ItemInventoryRet records (default 1000)
 *   -s  seed (default 1)
 *   -c  split the items over this many ItemInventoryQueryRs iterator pages in
 *       one document (default 1: a plain, non-iterator answer)
 *   -f  full records: every field a real capture has, aggregates included
 *       (about 3.2 KB per item).  The default is a lean record of about 1 KB:
 *       what a query with IncludeRetElement for the fields an export needs
 *       returns (no COGSAccount, IncomeAccount, Is* flags other than IsWebItem,
 *       no AvailableQty, UnitOfMeasure1..3, VendorInfo2..5 or DataExtRet)
 *   -o  write to FILE instead of standard output
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ output */

#define OUTBUF (1u << 20)
#define ITEM_MAX (64u * 1024u) /* no single record comes close to this */

static char obuf[OUTBUF];
static size_t olen;
static FILE *ofp;

static void
die(const char *what)
{
    fprintf(stderr, "genitems: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void
flush_out(void)
{
    if (olen > 0 && fwrite(obuf, 1, olen, ofp) != olen)
        die("write");
    olen = 0;
}

/* Called before each record so the appends below never need a bounds check. */
static void
reserve(void)
{
    if (OUTBUF - olen < ITEM_MAX)
        flush_out();
}

static void
put(const char *s, size_t n)
{
    memcpy(obuf + olen, s, n);
    olen += n;
}

static void
puts0(const char *s)
{
    put(s, strlen(s));
}

#define PUTS(lit) put((lit), sizeof(lit) - 1)
#define NL() PUTS("\r\n")
/* <name>value</name>CRLF, with the tag text built at compile time. */
#define OPEN(name) PUTS("<" name ">")
#define CLOSE(name) PUTS("</" name ">\r\n")

static void
put_u64(uint64_t v)
{
    char tmp[24];
    int i = 24;

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(tmp + i, (size_t)(24 - i));
}

static void
put_i64(int64_t v)
{
    if (v < 0) {
        PUTS("-");
        put_u64((uint64_t)0 - (uint64_t)v);
    } else {
        put_u64((uint64_t)v);
    }
}

/* Fixed point with two decimals: 1234 -> "12.34", -100 -> "-1.00". */
static void
put_fix2(int64_t v)
{
    uint64_t a;
    char d[3];

    if (v < 0) {
        PUTS("-");
        a = (uint64_t)0 - (uint64_t)v;
    } else {
        a = (uint64_t)v;
    }
    put_u64(a / 100);
    d[0] = '.';
    d[1] = (char)('0' + a / 10 % 10);
    d[2] = (char)('0' + a % 10);
    put(d, 3);
}

static void
put_2d(unsigned v)
{
    char d[2] = {(char)('0' + v / 10 % 10), (char)('0' + v % 10)};

    put(d, 2);
}

#define EL_STR(name, s)                                                                  \
    do {                                                                                 \
        OPEN(name);                                                                      \
        puts0(s);                                                                        \
        CLOSE(name);                                                                     \
    } while (0)
#define EL_LIT(name, lit) PUTS("<" name ">" lit "</" name ">\r\n")
#define EL_FIX2(name, v)                                                                 \
    do {                                                                                 \
        OPEN(name);                                                                      \
        put_fix2(v);                                                                     \
        CLOSE(name);                                                                     \
    } while (0)
#define EL_I64(name, v)                                                                  \
    do {                                                                                 \
        OPEN(name);                                                                      \
        put_i64(v);                                                                      \
        CLOSE(name);                                                                     \
    } while (0)
#define EL_BOOL(name, b)                                                                 \
    do {                                                                                 \
        if (b)                                                                           \
            EL_LIT(name, "True");                                                        \
        else                                                                             \
            EL_LIT(name, "False");                                                       \
    } while (0)

/* -------------------------------------------------------------------- PRNG */

static uint64_t rng_state;

/* splitmix64's output function: a bijection on 64-bit values. */
static uint64_t
mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t
rnd(void)
{
    rng_state += UINT64_C(0x9e3779b97f4a7c15);
    return mix64(rng_state);
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias is negligible here). */
static uint32_t
below(uint32_t n)
{
    return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

/* true with probability pct/100 */
static int
chance(unsigned pct)
{
    return below(100) < pct;
}

/* -------------------------------------------------------------- the tables */

/* All text below is already XML-escaped and CP-1252 encoded.  C hex escapes
 * swallow every following hex digit, hence the "\xE9" "e" splits. */

struct dept {
    const char *code;
    int food; /* TaxCode Non */
};

static const struct dept depts[] = {
    {"GAT", 0}, {"APP", 0}, {"KIT", 0}, {"FOD", 1}, {"HOM", 0},
    {"TOY", 0}, {"JWL", 0}, {"BKS", 0}, {"BTH", 0}, {"OUT", 0},
};

enum axis { AX_ATTR, AX_APPAREL, AX_SHOE, AX_VOLUME, AX_KIDS };

struct noun {
    const char *name; /* at most 10 characters */
    unsigned dept;    /* index into depts[] */
    enum axis axis;   /* Size axis used when a style has more than one axis */
    int64_t price;    /* typical Price1, cents */
};

static const struct noun nouns[] = {
    {"Tub", 0, AX_ATTR, 3499},        {"Mug", 2, AX_VOLUME, 1499},
    {"Tee", 1, AX_APPAREL, 2499},     {"Hoodie", 1, AX_APPAREL, 4999},
    {"Beanie", 1, AX_ATTR, 1800},     {"Candle", 4, AX_VOLUME, 2200},
    {"Lantern", 4, AX_ATTR, 5800},    {"Tote", 0, AX_ATTR, 2800},
    {"Scarf", 1, AX_ATTR, 3200},      {"Socks", 1, AX_SHOE, 1200},
    {"Poster", 0, AX_ATTR, 995},      {"Frame", 4, AX_ATTR, 1999},
    {"Coaster", 2, AX_ATTR, 1450},    {"Towel", 8, AX_ATTR, 2400},
    {"Apron", 2, AX_ATTR, 2650},      {"Bracelet", 6, AX_ATTR, 1200},
    {"Necklace", 6, AX_ATTR, 3600},   {"Journal", 7, AX_ATTR, 1695},
    {"Hot Sauce", 3, AX_VOLUME, 749}, {"Fudge", 3, AX_ATTR, 1200},
    {"Caramels", 3, AX_ATTR, 899},    {"Tumbler", 2, AX_VOLUME, 2400},
    {"Blanket", 4, AX_ATTR, 8900},    {"Pillow", 4, AX_ATTR, 3400},
    {"Puzzle", 5, AX_ATTR, 2199},     {"Kite", 5, AX_ATTR, 2999},
    {"Sandals", 1, AX_SHOE, 3900},    {"Pi\xF1" "ata", 5, AX_ATTR, 2450},
    {"Cr\xEApe Pan", 2, AX_ATTR, 4200}, {"Souffl\xE9 Dish", 2, AX_VOLUME, 2800},
    {"Onesie", 1, AX_KIDS, 1900},     {"Rain Boots", 1, AX_KIDS, 3400},
    {"Soap", 8, AX_ATTR, 650},        {"Daypack", 9, AX_ATTR, 5400},
    {"Water Jug", 9, AX_VOLUME, 2200}, {"Salt &amp; Pepper", 2, AX_ATTR, 1650},
};

static const char *const adjectives[] = { /* at most 10 characters each */
    "Harbor",    "Coastal",      "Tidal",    "Salty",     "Sunny",
    "Misty",     "Driftwood",    "Nautical", "Sandy",     "Breezy",
    "Rustic",    "Cozy",         "Vintage",  "Classic",   "Caf\xE9",
    "Cr\xE8me",  "Jalape\xF1o",  "Se\xF1or", "Na\xEFve",  "Sailor\x92s",
    "Captain\x92s", "Lighthouse", "Anchor",  "Seaglass",  "Gull",
    "Pier",      "Wharf",        "Brass",    "Maple",     "Cedar",
    "Fjord",     "Bo\xF6tes",
};

struct color {
    const char *name; /* Attribute, at most 12 characters */
    const char *alu;  /* ALU part: ASCII, unique */
};

static const struct color colors[] = {
    {"White", "WHT"},    {"Aqua", "AQU"},       {"Kiwi", "KIW"},     {"Rose", "ROS"},
    {"Wine", "WIN"},     {"Crimson", "CRI"},    {"Navy", "NAV"},     {"Noir", "NOI"},
    {"Cr\xE8me", "CRM"}, {"Caf\xE9", "CAF"},    {"Sand", "SND"},     {"Teal", "TEA"},
    {"Coral", "COR"},    {"Olive", "OLV"},      {"Ros\xE9", "RSE"},  {"Ivory", "IVO"},
    {"Charcoal", "CHA"}, {"Slate", "SLA"},      {"Saffron", "SAF"},  {"Lilac", "LIL"},
    {"Bleu Fonc\xE9", "BLF"}, {"Vert d\x92" "eau", "VDE"},
};

struct sizeset {
    const char *const *name;
    const char *const *alu;
    unsigned n;
};

static const char *const sz_app[] = {"XS", "S", "M", "L", "XL", "2XL", "3XL"};
static const char *const sz_shoe[] = {"6", "7", "8", "9", "10", "11", "12"};
static const char *const sz_vol[] = {"8 oz", "12 oz", "16 oz", "20 oz"};
static const char *const sz_vol_alu[] = {"8OZ", "12OZ", "16OZ", "20OZ"};
static const char *const sz_kids[] = {"2T", "3T", "4T", "5", "6"};

static const struct sizeset sizesets[] = {
    [AX_ATTR] = {sz_app, sz_app, COUNT(sz_app)},
    [AX_APPAREL] = {sz_app, sz_app, COUNT(sz_app)},
    [AX_SHOE] = {sz_shoe, sz_shoe, COUNT(sz_shoe)},
    [AX_VOLUME] = {sz_vol, sz_vol_alu, COUNT(sz_vol)},
    [AX_KIDS] = {sz_kids, sz_kids, COUNT(sz_kids)},
};

struct vendor {
    const char *code;
    const char *name; /* Manufacturer */
};

static const struct vendor vendors[] = {
    {"BHI", "Blue Heron Imports"},  {"SEA", "Seaside Apparel Co."},
    {"CPC", "Coastal Pantry Co."},  {"WWC", "Wick &amp; Wax Candle Co."},
    {"NTL", "Nautilus Trading"},    {"MPL", "Maple &amp; Pine"},
    {"LDK", "Little Dock Kids"},    {"GUL", "Gull Jewelry Studio"},
};

/* Desc2 is 0-3 of these, joined by a separator below. */
static const char *const phrases[] = {
    "Hand-poured soy wax, 8 oz tin",
    "100% cotton, pre-shrunk",
    "Dishwasher safe",
    "Made in Maine",
    "Grandma\x92s recipe",
    "Soft \x96 and warm",
    "11&quot; tall, glass chimney",
    "Salt &amp; pepper shakers",
    "Scent: &quot;sea breeze&quot;",
    "Caf\xE9 au lait glaze",
    "Ships flat",
    "Limited run \x96 while supplies last",
    "Wash cold, tumble dry low",
    "Fits most, adjustable strap",
};

static const char *const separators[] = {
    ", ", ". ", "; ", "&#xD;&#xA;", "\r\n", " \x96 ",
};

static const char *const categories[] = {
    "Gifts", "Apparel/T-Shirts", "Kitchen/Mugs", "Home/Lighting", "Food &amp; Pantry",
    "Kids", "Outdoor",
};

/* --------------------------------------------------------------- calendar */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int *py, unsigned *pm, unsigned *pd)
{
    int64_t era, y;
    unsigned doe, yoe, doy, mp, d, m;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    *py = (int)(y + (m <= 2));
    *pm = m;
    *pd = d;
}

/* 0 = Sunday */
static unsigned
weekday(int64_t z)
{
    return (unsigned)((z % 7 + 11) % 7);
}

/* US Central time: daylight time (-05:00) from the second Sunday of March
 * 02:00 to the first Sunday of November 02:00, otherwise -06:00. */
static int
is_cdt(int64_t day, unsigned sec)
{
    int y;
    unsigned m, d;
    int64_t mar1, nov1, start, end;

    civil_from_days(day, &y, &m, &d);
    mar1 = days_from_civil(y, 3, 1);
    nov1 = days_from_civil(y, 11, 1);
    start = mar1 + (7 - weekday(mar1)) % 7 + 7;
    end = nov1 + (7 - weekday(nov1)) % 7;
    if (day > start && day < end)
        return 1;
    if (day == start)
        return sec >= 2 * 3600;
    if (day == end)
        return sec < 2 * 3600;
    return 0;
}

static void
put_date(int64_t day)
{
    int y;
    unsigned m, d;

    civil_from_days(day, &y, &m, &d);
    put_u64((uint64_t)y);
    PUTS("-");
    put_2d(m);
    PUTS("-");
    put_2d(d);
}

/* 2026-11-20T17:42:49-06:00 */
static void
put_datetime(int64_t day, unsigned sec)
{
    put_date(day);
    PUTS("T");
    put_2d(sec / 3600);
    PUTS(":");
    put_2d(sec / 60 % 60);
    PUTS(":");
    put_2d(sec % 60);
    if (is_cdt(day, sec))
        PUTS("-05:00");
    else
        PUTS("-06:00");
}

/* ------------------------------------------------------------------ items */

static uint64_t id_base;     /* seed-derived offset for ListIDs */
static int64_t day_first;    /* first TimeCreated day */
static int64_t day_last;     /* last TimeModified day (the export night) */

/* A ListID: a signed 64-bit integer.  mix64 is a bijection, so distinct keys
 * give distinct ids; items use keys below 2^62, departments and vendors above. */
static int64_t
list_id(uint64_t key)
{
    return (int64_t)mix64(id_base + key);
}

#define KEY_DEPT (UINT64_C(1) << 62)
#define KEY_VENDOR (UINT64_C(1) << 62 | UINT64_C(1) << 32)

struct style {
    uint64_t no;          /* style number: Desc1 suffix and ALU prefix */
    const struct noun *noun;
    const char *adj;
    const struct vendor *vendor;
    const struct sizeset *sizes;
    int64_t price, cost, msrp, price2, price4, weight;
    int64_t created_day;
    unsigned created_sec;
    int web, pictures, non_inventory, service, has_desc2;
    char desc2[256];
    size_t desc2_len;
    /* variants: indices into colors[] / sizes (-1 = none), k of them */
    int attr[12], size[12];
    unsigned k;
};

static void
make_desc2(struct style *st)
{
    unsigned np = 1 + below(3), i;
    size_t len = 0;

    for (i = 0; i < np; i++) {
        const char *p = phrases[below(COUNT(phrases))];
        const char *sep = separators[below(COUNT(separators))];
        size_t pl = strlen(p), sl = strlen(sep);

        if (i > 0) {
            memcpy(st->desc2 + len, sep, sl);
            len += sl;
        }
        memcpy(st->desc2 + len, p, pl);
        len += pl;
    }
    st->desc2_len = len;
}

static int64_t
round_div(int64_t num, int64_t den) /* den > 0, half away from zero */
{
    return num >= 0 ? (2 * num + den) / (2 * den) : -((-2 * num + den) / (2 * den));
}

static void
new_style(struct style *st, uint64_t no, uint64_t left)
{
    unsigned k, i, na, ns, mode, r;
    int64_t p;

    memset(st, 0, sizeof *st);
    st->no = no;
    st->noun = &nouns[below(COUNT(nouns))];
    st->adj = adjectives[below(COUNT(adjectives))];
    st->vendor = &vendors[below(COUNT(vendors))];
    st->sizes = &sizesets[st->noun->axis];

    /* Style size: about half are lone items, the rest 2..12. */
    k = chance(50) ? 1 : 2 + below(11);
    if (k > left)
        k = (unsigned)left;
    st->k = k;

    /* Price: the noun's typical price, -40%..+60%, ending in .99, .49 or .00. */
    p = st->noun->price * (60 + (int64_t)below(101)) / 100;
    p = p / 100 * 100 + (chance(60) ? 99 : chance(50) ? 49 : 0);
    if (p < 99)
        p = 99;
    st->price = p;
    st->cost = p * (30 + (int64_t)below(31)) / 100;
    st->msrp = chance(60) ? 0 : p + p / 5 / 100 * 100 + 100;
    st->price2 = chance(15) ? p * 80 / 100 : p;
    st->price4 = chance(10) ? p * 90 / 100 : p;
    st->weight = chance(70) ? 0 : chance(50) ? 125 : 25 * (1 + (int64_t)below(12));
    st->web = chance(85);
    st->pictures = chance(40);
    st->has_desc2 = chance(60);
    if (st->has_desc2)
        make_desc2(st);
    st->created_day = day_first + below((uint32_t)(day_last - 150 - day_first));
    st->created_sec = 7 * 3600 + below(14 * 3600);
    if (k == 1 && chance(2)) {
        if (chance(50))
            st->service = 1;
        else
            st->non_inventory = 1;
        st->cost = 0;
    }

    for (i = 0; i < 12; i++)
        st->attr[i] = st->size[i] = -1;
    if (k == 1) {
        if (chance(20))
            st->attr[0] = (int)below(COUNT(colors));
        return;
    }

    /* Axes: attribute only, size only (when the size list is long enough),
     * or attribute x size with some combinations missing. */
    r = below(4);
    mode = r < 2 ? 2 : r - 2; /* half attribute x size, a quarter each single axis */
    if (st->noun->axis == AX_ATTR || (mode == 1 && k > st->sizes->n))
        mode = 0;
    if (mode == 0) {
        /* k distinct colours: stride 7 is coprime with the 22 colours */
        unsigned first = below(COUNT(colors));

        for (i = 0; i < k; i++)
            st->attr[i] = (int)((first + i * 7) % COUNT(colors));
        return;
    }
    if (mode == 1) {
        /* a run of consecutive sizes */
        unsigned first = below(st->sizes->n - k + 1);

        for (i = 0; i < k; i++)
            st->size[i] = (int)(first + i);
        return;
    }

    /* attribute x size: na colours, ns sizes, na*ns >= k, keep k of them */
    ns = st->sizes->n < 4 ? st->sizes->n : 3 + below(st->sizes->n - 2);
    na = (k + ns - 1) / ns;
    if (na * ns == k && na < 4)
        na++; /* so that not every combination is present */
    {
        unsigned cbase = below(COUNT(colors)), sbase = below(st->sizes->n - ns + 1);
        unsigned combos = na * ns, pick[48], j;

        for (j = 0; j < combos; j++)
            pick[j] = j;
        /* partial Fisher-Yates: the first k of pick[] are a random subset */
        for (j = 0; j < k; j++) {
            unsigned sw = j + below(combos - j), t = pick[j];

            pick[j] = pick[sw];
            pick[sw] = t;
        }
        /* sort the chosen k so variants come out colour by colour, size by size */
        for (j = 1; j < k; j++) {
            unsigned v = pick[j], m = j;

            while (m > 0 && pick[m - 1] > v) {
                pick[m] = pick[m - 1];
                m--;
            }
            pick[m] = v;
        }
        for (j = 0; j < k; j++) {
            st->attr[j] = (int)((cbase + pick[j] / ns * 5) % COUNT(colors));
            st->size[j] = (int)(sbase + pick[j] % ns);
        }
    }
}

/* GTIN check digit over n digits (UPC-A: n = 11, EAN-13: n = 12). */
static char
gtin_check(const char *d, unsigned n)
{
    unsigned i, s = 0;

    for (i = 0; i < n; i++) {
        unsigned w = ((n - i) % 2 == 1) ? 3 : 1; /* weight 3 on the digit next to the check */
        s += (unsigned)(d[i] - '0') * w;
    }
    return (char)('0' + (10 - s % 10) % 10);
}

static void
put_upc(uint64_t item_no)
{
    char d[14];
    unsigned i, n;
    uint64_t v = item_no;

    if (item_no % 10 == 7) {
        /* EAN-13: "40" + 10 digits */
        n = 12;
        d[0] = '4';
        d[1] = '0';
        for (i = 11; i >= 2; i--) {
            d[i] = (char)('0' + v % 10);
            v /= 10;
        }
    } else {
        /* UPC-A with a leading zero: "08" + 9 digits */
        n = 11;
        d[0] = '0';
        d[1] = '8';
        for (i = 10; i >= 2; i--) {
            d[i] = (char)('0' + v % 10);
            v /= 10;
        }
    }
    d[n] = gtin_check(d, n);
    OPEN("UPC");
    put(d, n + 1);
    CLOSE("UPC");
}

static int full_records;

/* Quantity in hundredths: mostly whole numbers, some zero, a few fractional,
 * rarely -1 (a sale before the receiving was entered: it happens in POS). */
static int64_t
rnd_qty(void)
{
    uint32_t r = below(1000);

    if (r < 200)
        return 0;
    if (r < 205)
        return -100;
    if (r < 235)
        return (int64_t)below(12) * 100 + (chance(50) ? 50 : 25);
    return (1 + (int64_t)below(24)) * 100;
}

static void
put_available(unsigned store, int64_t custord, int64_t onorder)
{
    PUTS("<AvailableQty>\r\n");
    EL_FIX2("QuantityOnCustomerOrder", custord);
    EL_FIX2("QuantityOnOrder", onorder);
    EL_LIT("QuantityOnPendingOrder", "0.00");
    OPEN("StoreNumber");
    put_u64(store);
    CLOSE("StoreNumber");
    PUTS("</AvailableQty>\r\n");
}

static void
put_uom_empty(const char *name)
{
    PUTS("<");
    puts0(name);
    PUTS(">\r\n<MSRP>0.00</MSRP>\r\n<NumberOfBaseUnits>0.00</NumberOfBaseUnits>\r\n"
         "<Price1>0.00</Price1>\r\n<Price2>0.00</Price2>\r\n<Price3>0.00</Price3>\r\n"
         "<Price4>0.00</Price4>\r\n<Price5>0.00</Price5>\r\n</");
    puts0(name);
    PUTS(">\r\n");
}

static void
put_item(const struct style *st, unsigned v, uint64_t item_no)
{
    const struct color *col = st->attr[v] >= 0 ? &colors[st->attr[v]] : NULL;
    int sz = st->size[v];
    int inventory = !st->service && !st->non_inventory;
    int64_t q1 = inventory ? rnd_qty() : 0, q2 = inventory ? rnd_qty() : 0;
    int64_t custord1 = chance(3) ? 100 : 0, onorder1 = chance(5) ? 1200 : 0;
    int64_t mod_day = st->created_day + below((uint32_t)(day_last - st->created_day + 1));
    unsigned mod_sec = 7 * 3600 + below(14 * 3600);
    int64_t reorder = inventory ? (int64_t)(1 + below(6)) * 200 : 0;
    int64_t price = st->price, cost = st->cost;
    const struct dept *dp = &depts[st->noun->dept];

    if (mod_day == st->created_day && mod_sec < st->created_sec)
        mod_sec = st->created_sec;

    reserve();
    PUTS("<ItemInventoryRet>\r\n");
    EL_I64("ListID", list_id(item_no));
    OPEN("TimeCreated");
    put_datetime(st->created_day, st->created_sec);
    CLOSE("TimeCreated");
    OPEN("TimeModified");
    put_datetime(mod_day, mod_sec);
    CLOSE("TimeModified");

    /* ALU: style number, then colour code and size when present */
    OPEN("ALU");
    put_u64(st->no);
    if (col != NULL) {
        PUTS("-");
        puts0(col->alu);
    }
    if (sz >= 0) {
        PUTS("-");
        puts0(st->sizes->alu[sz]);
    }
    CLOSE("ALU");
    if (col != NULL)
        EL_STR("Attribute", col->name);
    if (full_records)
        EL_LIT("COGSAccount", "Cost of Goods Sold");
    EL_FIX2("Cost", cost);
    EL_STR("DepartmentCode", dp->code);
    EL_I64("DepartmentListID", list_id(KEY_DEPT + st->noun->dept));
    OPEN("Desc1");
    puts0(st->adj);
    PUTS(" ");
    puts0(st->noun->name);
    PUTS(" ");
    put_u64(st->no);
    CLOSE("Desc1");
    if (st->has_desc2) {
        OPEN("Desc2");
        put(st->desc2, st->desc2_len);
        CLOSE("Desc2");
    }
    if (full_records) {
        EL_BOOL("HasPictures", st->pictures);
        if (st->service)
            EL_LIT("IncomeAccount", "Service Income");
        else
            EL_LIT("IncomeAccount", "Merchandise Sales");
        EL_BOOL("IsBelowReorder", inventory && q1 + q2 < reorder);
        EL_LIT("IsEligibleForCommission", "True");
        EL_BOOL("IsEligibleForRewards", !st->non_inventory);
        EL_BOOL("IsPrintingTags", inventory);
        EL_BOOL("IsUnorderable", !inventory);
    }
    EL_BOOL("IsWebItem", st->web && inventory);
    EL_I64("ItemNumber", (int64_t)item_no + 1);
    if (st->service)
        EL_LIT("ItemType", "Service");
    else if (st->non_inventory)
        EL_LIT("ItemType", "NonInventory");
    else
        EL_LIT("ItemType", "Inventory");
    OPEN("Keywords");
    puts0(st->noun->name);
    PUTS(", ");
    puts0(st->adj);
    CLOSE("Keywords");
    if (full_records && inventory) {
        OPEN("LastReceived");
        put_date(st->created_day + (mod_day - st->created_day) / 2);
        CLOSE("LastReceived");
    }
    EL_STR("Manufacturer", st->vendor->name);
    if (full_records) {
        if (price > 0)
            EL_I64("MarginPercent", round_div((price - cost) * 100, price));
        if (cost > 0)
            EL_I64("MarkupPercent", round_div((price - cost) * 100, cost));
    }
    EL_FIX2("MSRP", st->msrp);
    if (!st->non_inventory) {
        EL_FIX2("OnHandStore01", q1);
        EL_FIX2("OnHandStore02", q2);
    }
    if (full_records)
        EL_FIX2("OrderCost", cost);
    EL_FIX2("Price1", price);
    EL_FIX2("Price2", st->price2);
    EL_FIX2("Price3", price);
    EL_FIX2("Price4", st->price4);
    EL_FIX2("Price5", price);
    if (full_records)
        EL_FIX2("QuantityOnCustomerOrder", custord1);
    EL_FIX2("QuantityOnHand", q1 + q2);
    if (full_records) {
        EL_FIX2("QuantityOnOrder", onorder1);
        EL_LIT("QuantityOnPendingOrder", "0.00");
        if (inventory) {
            EL_FIX2("ReorderPoint", reorder);
            EL_FIX2("ReorderPointStore01", reorder / 2);
            EL_FIX2("ReorderPointStore02", reorder / 2);
            EL_LIT("SerialFlag", "Optional");
        }
    }
    if (sz >= 0)
        EL_STR("Size", st->sizes->name[sz]);
    if (full_records)
        EL_LIT("StoreExchangeStatus", "Modified");
    if (dp->food || st->non_inventory)
        EL_LIT("TaxCode", "Non");
    else
        EL_LIT("TaxCode", "Tax");
    if (inventory && item_no % 20 != 3)
        put_upc(item_no);
    if (inventory) {
        EL_STR("VendorCode", st->vendor->code);
        EL_I64("VendorListID", list_id(KEY_VENDOR + (uint64_t)(st->vendor - vendors)));
    }
    if (full_records && st->web && item_no % 3 == 0)
        EL_STR("WebCategories", categories[st->noun->dept % COUNT(categories)]);
    EL_FIX2("WebPrice", price);
    EL_FIX2("Weight", st->weight);
    if (full_records) {
        if (inventory) {
            put_available(1, custord1, onorder1);
            put_available(2, 0, 0);
        }
        put_uom_empty("UnitOfMeasure1");
        put_uom_empty("UnitOfMeasure2");
        put_uom_empty("UnitOfMeasure3");
        PUTS("<VendorInfo2>\r\n<OrderCost>0.00</OrderCost>\r\n</VendorInfo2>\r\n"
             "<VendorInfo3>\r\n<OrderCost>0.00</OrderCost>\r\n</VendorInfo3>\r\n"
             "<VendorInfo4>\r\n<OrderCost>0.00</OrderCost>\r\n</VendorInfo4>\r\n"
             "<VendorInfo5>\r\n<OrderCost>0.00</OrderCost>\r\n</VendorInfo5>\r\n");
        if (item_no % 50 == 11)
            PUTS("<DataExtRet>\r\n<DataExtName>Season</DataExtName>\r\n"
                 "<DataExtType>STR255TYPE</DataExtType>\r\n"
                 "<DataExtValue>Summer 2026</DataExtValue>\r\n"
                 "<OwnerID>{3F2A9C61-0B7E-4D18-9E45-C7A2D8B16F30}</OwnerID>\r\n"
                 "</DataExtRet>\r\n");
    }
    PUTS("</ItemInventoryRet>\r\n");
}

/* ------------------------------------------------------------------- main */

static void
usage(void)
{
    fputs("usage: genitems [-n ITEMS] [-s SEED] [-c CHUNKS] [-f] [-o FILE]\n", stderr);
    exit(2);
}

static uint64_t
num_arg(const char *s, const char *opt)
{
    char *end;
    unsigned long long v;

    errno = 0;
    if (s == NULL || *s < '0' || *s > '9')
        usage();
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        fprintf(stderr, "genitems: bad number for %s: '%s'\n", opt, s);
        exit(2);
    }
    return (uint64_t)v;
}

static void
put_guid(uint64_t a, uint64_t b)
{
    static const char hex[] = "0123456789ABCDEF";
    char g[38];
    int i, j = 0;

    g[j++] = '{';
    for (i = 0; i < 32; i++) {
        uint64_t w = i < 16 ? a : b;
        unsigned sh = (unsigned)(60 - 4 * (i % 16));

        if (i == 8 || i == 12 || i == 16 || i == 20)
            g[j++] = '-';
        g[j++] = hex[(w >> sh) & 15];
    }
    g[j++] = '}';
    put(g, (size_t)j);
}

int
main(int argc, char **argv)
{
    uint64_t n = 1000, seed = 1, chunks = 1, done = 0, style_no = 1000, c;
    const char *path = NULL;
    struct style st;
    unsigned v = 0;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "-n") == 0)
            n = num_arg(i + 1 < argc ? argv[++i] : NULL, "-n");
        else if (strcmp(a, "-s") == 0)
            seed = num_arg(i + 1 < argc ? argv[++i] : NULL, "-s");
        else if (strcmp(a, "-c") == 0)
            chunks = num_arg(i + 1 < argc ? argv[++i] : NULL, "-c");
        else if (strcmp(a, "-o") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(a, "-f") == 0)
            full_records = 1;
        else
            usage();
    }
    if (n > UINT64_C(50000000) || chunks == 0 || (n > 0 && chunks > n)) {
        fputs("genitems: need 0 <= ITEMS <= 50000000 and 1 <= CHUNKS <= ITEMS\n", stderr);
        return 2;
    }

    ofp = stdout;
    if (path != NULL && (ofp = fopen(path, "wb")) == NULL)
        die(path);

    rng_state = mix64(seed ^ UINT64_C(0x5eed0f9b05b1d6e5));
    id_base = rnd();
    day_first = days_from_civil(2019, 1, 1);
    day_last = days_from_civil(2026, 11, 26);
    memset(&st, 0, sizeof st);

    PUTS("<?xml version=\"1.0\" encoding=\"windows-1252\"?>\r\n<QBPOSXML>\r\n"
         "<QBPOSXMLMsgsRs>\r\n");
    if (n == 0)
        PUTS("<ItemInventoryQueryRs requestID=\"1\" retCount=\"0\" statusCode=\"1\" "
             "statusMessage=\"A query request did not find a matching object in "
             "QuickBooks POS\" statusSeverity=\"Info\">\r\n</ItemInventoryQueryRs>\r\n");
    for (c = 0; c < chunks && n > 0; c++) {
        uint64_t end = n * (c + 1) / chunks;

        reserve();
        PUTS("<ItemInventoryQueryRs ");
        if (chunks > 1) {
            PUTS("iteratorID=\"");
            put_guid(mix64(seed + 1), mix64(seed + 2));
            PUTS("\" iteratorRemainingCount=\"");
            put_u64(n - end);
            PUTS("\" ");
        }
        PUTS("requestID=\"");
        put_u64(c + 1);
        PUTS("\" retCount=\"");
        put_u64(end - done);
        PUTS("\" statusCode=\"0\" statusMessage=\"Status OK\" statusSeverity=\"Info\">\r\n");
        /* Styles run on across chunk borders, as they do across iterator pages. */
        for (; done < end; done++) {
            if (v == st.k) {
                new_style(&st, style_no++, n - done);
                v = 0;
            }
            put_item(&st, v++, done);
        }
        PUTS("</ItemInventoryQueryRs>\r\n");
    }
    PUTS("</QBPOSXMLMsgsRs>\r\n</QBPOSXML>\r\n");
    flush_out();
    if (fflush(ofp) != 0 || ferror(ofp))
        die("write");
    if (ofp != stdout && fclose(ofp) != 0)
        die("close");
    return 0;
}
