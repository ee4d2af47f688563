"""Synthetic name lists for simulated children (written for cscflow; common given names and surnames).

Names are drawn by broad ethnic group so that a child's name looks plausible; no real
person's record is behind any combination.
"""

from __future__ import annotations

BOYS = {
    "white": "Oliver Jack Harry George Charlie Jacob Thomas Oscar William James Alfie Joshua Henry Leo "
    "Archie Ethan Joseph Freddie Samuel Alexander Logan Daniel Isaac Max Mason Lucas Dylan Tyler Riley "
    "Jake Harvey Finley Kai Callum Connor Ryan Liam Kyle Reece Lewis Brandon Jayden Bradley Ben Luke "
    "Toby Louie Jenson Tommy Alfie-Ray Kian Ellis Rhys Frankie Sonny Stanley Albie Ronnie Lenny Kacper "
    "Jakub Szymon Filip Luca Mateo",
    "asian": "Mohammed Muhammad Ali Ibrahim Yusuf Ayaan Zayn Hamza Aarav Arjun Rohan Harjit Amrit Ravi "
    "Imran Bilal Hassan Rayyan Umar Zain",
    "black": "Kwame Kofi Tobi David Samuel Joshua Emmanuel Daniel Tyrese Jayden Malachi Isaiah Elijah "
    "Chidi Tunde Femi Abdi Mustafa Kayden Andre",
    "other": "Ahmad Mohammad Reza Omid Hamid Yonas Dawit Samuel Abel Tesfay Ali Karim Nasir Jamal Wei "
    "Jun Adam Noah Leon Adrian",
}
GIRLS = {
    "white": "Olivia Amelia Isla Ava Emily Sophia Grace Mia Poppy Ella Lily Evie Isabella Sophie Ivy "
    "Freya Harper Charlotte Isabelle Daisy Chloe Jessica Millie Ruby Phoebe Scarlett Evelyn Sienna Holly "
    "Megan Lauren Paige Courtney Chelsea Shannon Leah Abbie Jasmine Bethany Katie Lacey Tia Demi Kayla "
    "Layla Maisie Lexi Esme Willow Hallie Lola Summer Rosie Darcie Amber Zuzanna Julia Oliwia Maja "
    "Hanna Alicia",
    "asian": "Aisha Fatima Zara Maryam Amira Hafsa Inaya Aleena Anaya Priya Simran Jasmin Noor Hana "
    "Sana Ayesha Khadija Laiba Riya Mehak",
    "black": "Amara Blessing Precious Favour Grace Abigail Chioma Ama Adwoa Nia Zainab Hodan Ayan "
    "Ruth Esther Tiana Kezia Imani Naomi Shanice",
    "other": "Mariam Sara Leila Yasmin Helen Selam Meron Hiwot Lina Maya Mei Li Ana Elena Sofia "
    "Eva Nadia Rana Dina Hala",
}
SURNAMES = {
    "white": "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Wood Jackson Clarke Harris Lewis Martin Cooper King Baker Harrison "
    "Morgan Allen Turner Hill Scott Ward Moore Clark Watson Carter Mitchell Parker Bennett Cook Shaw "
    "Holmes Palmer Marshall Barker Webb Chapman Hughes Fowler Gibson Ellis Mason Hunt Kelly Murphy "
    "Price Knight Pearce Stevens Dixon Fisher Mills Lloyd Russell Butler Harvey Barnes Pearson Hayes "
    "Kowalski Nowak Wisniewski Dabrowski Lewandowski Horvath Kovacs Popescu Lee Bell",
    "asian": "Khan Ahmed Hussain Ali Begum Shah Patel Singh Kaur Sharma Akhtar Iqbal Rahman Mahmood "
    "Chaudhry Malik Gill Sandhu Uddin Islam",
    "black": "Okafor Mensah Adeyemi Boateng Osei Williams Campbell Francis Johnson Thomas Mohamed "
    "Abdullahi Nwosu Owusu Asante Clarke Bailey Grant Morris Reid",
    "other": "Ahmadi Hosseini Rahimi Tesfaye Haile Gebre Mohamed Abdi Karimi Noori Wang Li Zhang "
    "Chen Nguyen Tran Sadiq Haddad Nasser Yilmaz",
}


def group_of(ethnicity: str) -> str:
    """Broad name group for a DfE ethnicity code ('white', 'asian', 'black' or 'other')."""
    head = ethnicity[:1]
    return {"W": "white", "A": "asian", "B": "black", "M": "white"}.get(head, "other")


def lists() -> dict[str, dict[str, list[str]]]:
    """The name lists split into words: {'boys'|'girls'|'surnames': {group: [names]}}."""
    return {
        "boys": {g: s.split() for g, s in BOYS.items()},
        "girls": {g: s.split() for g, s in GIRLS.items()},
        "surnames": {g: s.split() for g, s in SURNAMES.items()},
    }
